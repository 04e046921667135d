"""The JSON Schema of a manifest, for editors' completion and inline checks."""

from __future__ import annotations

from typing import Any

from engine.schema.models import Manifest

SCHEMA_ID = "https://iot-rollouts.dev/schema/manifest.json"

def manifest_schema() -> dict[str, Any]:
    schema = Manifest.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "iot-rollouts manifest (an AWS IoT CreateJob request)"
    return schema
