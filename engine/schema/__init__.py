"""The manifest schema: pydantic models of every CreateJob parameter, and the rules between them."""

from engine.schema.models import Manifest

__all__ = ["Manifest"]
