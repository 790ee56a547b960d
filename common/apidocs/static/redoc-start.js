// Starts Redoc on this server's own OpenAPI description.
"use strict";

// Redoc's sidebar footer always shows the Redocly logo from cdn.redoc.ly; the package ships
// the same file, so point the image there (the page must not reach the internet).
const REDOC_CDN_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg";
const LOCAL_LOGO = "/docs/assets/redoc/logo-mini.svg";
const setAttribute = Element.prototype.setAttribute;
Element.prototype.setAttribute = function (name, value) {
  const local = this instanceof HTMLImageElement && name === "src" && value === REDOC_CDN_LOGO;
  return setAttribute.call(this, name, local ? LOCAL_LOGO : value);
};
const imageSrc = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, "src");
Object.defineProperty(HTMLImageElement.prototype, "src", {
  ...imageSrc,
  set(value) { imageSrc.set.call(this, value === REDOC_CDN_LOGO ? LOCAL_LOGO : value); },
});

window.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("redoc");
  Redoc.init(root.dataset.specUrl, {}, root);
});
