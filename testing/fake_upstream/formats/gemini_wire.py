"""Gemini `generateContent` requests, validated as strictly as the real API.

Checks follow the REST reference: only known request fields (unknown ones are "Invalid JSON
payload received. Unknown name ..."), roles `user`/`model` alternating, one data field per
part, function responses answering the previous turn's calls one for one (by name, and by id
when the calls had ids), and schemas (`parameters`, `responseSchema`) limited to the OpenAPI
subset of Gemini's `Schema` object, so `additionalProperties`, `$schema`, `$ref`... are refused.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from ..reply import Prompt, ReplyError

_FIELDS = frozenset(
    {
        "contents",
        "systemInstruction",
        "tools",
        "toolConfig",
        "generationConfig",
        "safetySettings",
        "cachedContent",
        "labels",
    }
)
_GENERATION = frozenset(
    {
        "temperature",
        "topP",
        "topK",
        "candidateCount",
        "maxOutputTokens",
        "stopSequences",
        "responseMimeType",
        "responseSchema",
        "presencePenalty",
        "frequencyPenalty",
        "seed",
        "thinkingConfig",
        "responseLogprobs",
        "logprobs",
        "responseModalities",
        "speechConfig",
        "imageConfig",
    }
)
MODALITIES = frozenset({"TEXT", "IMAGE", "AUDIO"})
ASPECT_RATIOS = frozenset({"1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"})
# The prebuilt voices of Gemini's speech generation guide.
VOICES = frozenset(
    {
        "zephyr",
        "puck",
        "charon",
        "kore",
        "fenrir",
        "leda",
        "orus",
        "aoede",
        "callirrhoe",
        "autonoe",
        "enceladus",
        "iapetus",
        "umbriel",
        "algieba",
        "despina",
        "erinome",
        "algenib",
        "rasalgethi",
        "laomedeia",
        "achernar",
        "alnilam",
        "schedar",
        "gacrux",
        "pulcherrima",
        "achird",
        "zubenelgenubi",
        "vindemiatrix",
        "sadachbia",
        "sadaltager",
        "sulafat",
    }
)
_SCHEMA = frozenset(
    {
        "type",
        "format",
        "title",
        "description",
        "nullable",
        "enum",
        "maxItems",
        "minItems",
        "properties",
        "required",
        "minProperties",
        "maxProperties",
        "minLength",
        "maxLength",
        "pattern",
        "example",
        "anyOf",
        "propertyOrdering",
        "default",
        "items",
        "minimum",
        "maximum",
    }
)
_TYPES = frozenset({"string", "number", "integer", "boolean", "array", "object"})
_PART_FIELDS = frozenset(
    {"text", "inlineData", "fileData", "functionCall", "functionResponse", "executableCode"}
)


def signature_for(call_id: Any) -> str:
    """The opaque thought signature this fake attaches to a function call (and checks back)."""
    return base64.b64encode(f"sig:{call_id}".encode()).decode()


def invalid(message: str) -> ReplyError:
    return ReplyError(400, message, "INVALID_ARGUMENT")


def unknown_name(name: str, where: str) -> ReplyError:
    return invalid(
        f"Invalid JSON payload received. Unknown name \"{name}\" at '{where}': Cannot find field."
    )


@dataclass(frozen=True, slots=True)
class MediaOutput:
    """What a request asked to get besides text: `IMAGE` (with an aspect ratio) or `AUDIO`
    (with a voice)."""

    modalities: tuple[str, ...]
    voice: str | None = None
    aspect_ratio: str | None = None


@dataclass(frozen=True, slots=True)
class GeminiRequest:
    prompt: Prompt
    thoughts: bool
    media: MediaOutput | None = None


def _media(config: dict[str, Any], model: str) -> MediaOutput | ReplyError | None:
    """`responseModalities` checked against what the model can produce, as the API does:
    images from `*-image*` models, audio only (with a prebuilt voice) from `*-tts` models."""
    modalities = config.get("responseModalities")
    speech = config.get("speechConfig")
    image = config.get("imageConfig")
    tts_model, image_model = "tts" in model, "image" in model
    if modalities is None:
        if tts_model:
            return invalid("This model only supports AUDIO output: set responseModalities.")
        return None
    if not isinstance(modalities, list) or not modalities or not set(modalities) <= MODALITIES:
        return invalid(f"generation_config.response_modalities: invalid value {modalities!r}")
    wanted = tuple(modalities)
    if "AUDIO" in wanted:
        if not tts_model or wanted != ("AUDIO",):
            return invalid(f"Model {model} does not support the requested response modalities")
        voice = (((speech or {}).get("voiceConfig") or {}).get("prebuiltVoiceConfig") or {}).get(
            "voiceName"
        )
        if voice is None:
            return MediaOutput(wanted, "Kore")  # the API's default voice
        if not isinstance(voice, str) or voice.lower() not in VOICES:
            return invalid(f"speech_config.voice_config: unknown voice name {voice!r}")
        return MediaOutput(wanted, voice)
    if speech is not None:
        return invalid("speech_config is only valid with response_modalities AUDIO")
    if "IMAGE" in wanted:
        if not image_model or not set(wanted) <= {"TEXT", "IMAGE"}:
            return invalid(f"Model {model} does not support the requested response modalities")
        ratio = (image or {}).get("aspectRatio")
        if ratio is not None and ratio not in ASPECT_RATIOS:
            return invalid(f"image_config.aspect_ratio: unsupported value {ratio!r}")
        return MediaOutput(wanted, aspect_ratio=ratio)
    if tts_model or image is not None:
        return invalid(f"Model {model} does not support the requested response modalities")
    return None


def parse(body: Any, model: str, *, stream: bool) -> GeminiRequest | ReplyError:
    if not isinstance(body, dict):
        return invalid("Invalid JSON payload received.")
    for key in body:
        if key not in _FIELDS:
            return unknown_name(key, "")
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        return invalid("* GenerateContentRequest.contents: contents is not specified")
    checked = _check_contents(contents)
    if isinstance(checked, ReplyError):
        return checked
    last_user, chars = checked
    system = body.get("systemInstruction")
    if system is not None:
        parts = system.get("parts") if isinstance(system, dict) else None
        if not isinstance(parts, list) or not all(
            isinstance(p, dict) and "text" in p for p in parts
        ):
            return invalid("systemInstruction: parts must be a list of text parts")
        chars += sum(len(str(p["text"])) for p in parts)
    names = _tools(body.get("tools"))
    if isinstance(names, ReplyError):
        return names
    config = body.get("generationConfig") or {}
    for key in config:
        if key not in _GENERATION:
            return unknown_name(key, "generation_config")
    if "responseSchema" in config:
        problem = check_schema(config["responseSchema"], "generation_config.response_schema")
        if problem:
            return problem
    tool_config = body.get("toolConfig")
    if tool_config is not None:
        mode = (tool_config.get("functionCallingConfig") or {}).get("mode")
        if mode not in ("AUTO", "ANY", "NONE", "VALIDATED"):
            return invalid(f"toolConfig.functionCallingConfig.mode: invalid value {mode!r}")
    media = _media(config, model)
    if isinstance(media, ReplyError):
        return media
    if media is not None and stream:
        return invalid("this fake answers image and audio output from generateContent only")
    thinking = config.get("thinkingConfig") or {}
    prompt = Prompt(model, last_user, names, chars, stream, stream)
    return GeminiRequest(prompt, bool(thinking.get("includeThoughts")), media)


def _check_contents(contents: list[Any]) -> tuple[str, int] | ReplyError:
    previous_role: str | None = None
    open_calls: list[tuple[str, str | None]] = []  # (name, id) of the last model turn's calls
    last_user = ""
    chars = 0
    for i, content in enumerate(contents):
        role = content.get("role") if isinstance(content, dict) else None
        if role not in ("user", "model"):
            return invalid(f"Please use a valid role: user, model. (contents[{i}].role={role!r})")
        if role == previous_role:
            return invalid(
                "Please ensure that multiturn requests alternate between user and model."
            )
        parts = content.get("parts")
        if not isinstance(parts, list) or not parts:
            return invalid(f"contents[{i}].parts: must not be empty")
        calls: list[tuple[str, str | None]] = []
        responses: list[tuple[str, str | None]] = []
        texts: list[str] = []
        for j, part in enumerate(parts):
            fields = [k for k in part if k in _PART_FIELDS] if isinstance(part, dict) else []
            if len(fields) != 1:
                return invalid(f"contents[{i}].parts[{j}]: a part holds exactly one data field")
            for key in part:
                if key not in _PART_FIELDS and key not in ("thought", "thoughtSignature"):
                    return unknown_name(key, f"contents[{i}].parts[{j}]")
            field = fields[0]
            if field == "text":
                texts.append(str(part["text"]))
            elif field == "inlineData":
                data = part["inlineData"]
                if not isinstance(data, dict) or not data.get("mimeType") or not data.get("data"):
                    return invalid(
                        f"contents[{i}].parts[{j}].inlineData: mimeType and data required"
                    )
            elif field == "functionCall":
                call = part["functionCall"]
                if role != "model" or not isinstance(call, dict) or not call.get("name"):
                    return invalid(f"contents[{i}].parts[{j}].functionCall: invalid")
                signature = part.get("thoughtSignature")
                if signature is not None and signature != signature_for(call.get("id")):
                    return invalid(f"contents[{i}].parts[{j}]: Corrupted thought signature.")
                calls.append((call["name"], call.get("id")))
            elif field == "functionResponse":
                response = part["functionResponse"]
                if (
                    role != "user"
                    or not isinstance(response, dict)
                    or not response.get("name")
                    or not isinstance(response.get("response"), dict)
                ):
                    return invalid(
                        f"contents[{i}].parts[{j}].functionResponse: name and an object "
                        "response are required"
                    )
                responses.append((response["name"], response.get("id")))
        if role == "user":
            problem = _answers(open_calls, responses)
            if problem:
                return problem
            if texts:
                last_user = "".join(texts)
        chars += sum(len(t) for t in texts)
        open_calls = calls if role == "model" else []
        previous_role = role
    return last_user, chars


def _answers(
    calls: list[tuple[str, str | None]], responses: list[tuple[str, str | None]]
) -> ReplyError | None:
    if not calls and not responses:
        return None
    if len(calls) != len(responses):
        return invalid(
            "Please ensure that the number of function response parts is equal to the number "
            "of function call parts of the function call turn."
        )
    if all(call_id is not None for _, call_id in calls):
        by_id = {call_id: name for name, call_id in calls}
        for name, answer_id in responses:
            if by_id.get(answer_id) != name:
                return invalid(
                    f"function response {name!r} (id {answer_id}) answers no function call "
                    "of the previous turn"
                )
    elif sorted(n for n, _ in calls) != sorted(n for n, _ in responses):
        return invalid("function response names do not match the function call names")
    return None


def _tools(tools: Any) -> tuple[str, ...] | ReplyError:
    names: list[str] = []
    for i, tool in enumerate(tools or []):
        if not isinstance(tool, dict):
            return invalid(f"tools[{i}]: must be an object")
        for key in tool:
            if key not in ("functionDeclarations", "googleSearch", "codeExecution", "urlContext"):
                return unknown_name(key, f"tools[{i}]")
        for j, declaration in enumerate(tool.get("functionDeclarations") or []):
            where = f"tools[{i}].function_declarations[{j}]"
            if not isinstance(declaration, dict) or not declaration.get("name"):
                return invalid(f"{where}.name: must be specified")
            for key in declaration:
                if key not in ("name", "description", "parameters", "response", "behavior"):
                    return unknown_name(key, where)
            if "parameters" in declaration:
                problem = check_schema(declaration["parameters"], f"{where}.parameters")
                if problem:
                    return problem
            names.append(declaration["name"])
    return tuple(names)


def check_schema(schema: Any, where: str) -> ReplyError | None:
    if not isinstance(schema, dict):
        return invalid(f"{where}: a schema must be an object")
    for key, value in schema.items():
        if key not in _SCHEMA:
            return unknown_name(key, where)
        if key == "type" and (not isinstance(value, str) or value.lower() not in _TYPES):
            return invalid(f"{where}.type: invalid value {value!r}")
        if key == "properties":
            if not isinstance(value, dict):
                return invalid(f"{where}.properties: must be an object")
            for name, sub in value.items():
                problem = check_schema(sub, f"{where}.properties[{name}]")
                if problem:
                    return problem
        if key == "items":
            problem = check_schema(value, f"{where}.items")
            if problem:
                return problem
        if key == "anyOf":
            for k, sub in enumerate(value if isinstance(value, list) else []):
                problem = check_schema(sub, f"{where}.any_of[{k}]")
                if problem:
                    return problem
        if key == "enum" and not all(isinstance(v, str) for v in value):
            return invalid(f"{where}.enum: values must be strings")
    return None
