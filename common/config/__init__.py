"""Reading toolrelay's (LiteLLM-format) config file, shared by every service.

Loading, `os.environ/` resolution, environment overrides and error formatting live here;
each service owns the types of its own sections.
"""

from common.config.document import (
    ENV_PREFIX,
    ConfigDocument,
    EnvReference,
    MissingVariable,
    apply_env_overrides,
    declared_environment,
    document_from_mapping,
    read_document,
    read_yaml,
    resolve_references,
)
from common.config.errors import (
    ConfigError,
    KeyPath,
    describe_validation_error,
    first_problem,
    format_key_path,
    join_key_path,
    kind_of,
    validation_problems,
)
from common.config.extras import undeclared_keys

__all__ = [
    "ENV_PREFIX",
    "ConfigDocument",
    "ConfigError",
    "EnvReference",
    "KeyPath",
    "MissingVariable",
    "apply_env_overrides",
    "declared_environment",
    "describe_validation_error",
    "document_from_mapping",
    "first_problem",
    "format_key_path",
    "join_key_path",
    "kind_of",
    "read_document",
    "read_yaml",
    "resolve_references",
    "undeclared_keys",
    "validation_problems",
]
