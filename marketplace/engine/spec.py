"""What the engine is asked for: fields with their constraints, and the job's generation settings.

Both are read from the stored forms the marketplace keeps (a schema field as
``marketplace.engine.schema`` cleans it, a job's ``config``), so the engine never sees
a raw request.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

from marketplace.engine.errors import UNGENERATABLE_SCHEMA

QUALITIES = ("fast", "balanced", "high")
FORMATS = ("json", "csv", "parquet")
MAX_VARIATIONS = 100
TEXT_TYPES = frozenset({"string", "text", "email", "url", "phone", "name", "address"})


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str
    required: bool = False
    unique: bool = False
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None
    enum: tuple[str, ...] | None = None

    @classmethod
    def from_schema(cls, field: dict) -> FieldSpec:
        constraints = field.get("constraints") or {}
        enum = constraints.get("enum")
        field_type = "float" if field["type"] == "number" else field["type"]
        return cls(
            name=field["name"],
            type=field_type,
            required=bool(constraints.get("required", False)),
            unique=bool(constraints.get("unique", False)),
            minimum=constraints.get("min"),
            maximum=constraints.get("max"),
            pattern=constraints.get("pattern"),
            enum=tuple(enum) if enum else None,
        )

    @property
    def is_text(self) -> bool:
        return self.type in TEXT_TYPES


@dataclass(frozen=True)
class Augmentation:
    """Each generated row is followed by ``variations`` noisy copies of itself (see augmentation.py)."""

    enabled: bool = False
    variations: int = 0
    noise: float = 0.0

    @classmethod
    def from_config(cls, raw: Any) -> Augmentation:
        if not isinstance(raw, dict) or not raw.get("enabled"):
            return cls()
        variations = int(raw["variations"]) if raw.get("variations") is not None else 1
        noise = float(raw.get("noise") if raw.get("noise") is not None else 0.05)
        if not 0 <= variations <= MAX_VARIATIONS:
            raise UNGENERATABLE_SCHEMA(
                f"augmentation.variations must be between 0 and {MAX_VARIATIONS}",
                details={"augmentation": ["variations out of range"]},
            )
        if not (0.0 <= noise <= 1.0) or math.isnan(noise):
            raise UNGENERATABLE_SCHEMA(
                "augmentation.noise must be between 0 and 1", details={"augmentation": ["noise out of range"]}
            )
        return cls(enabled=variations > 0, variations=variations, noise=noise)

    @property
    def steps(self) -> list[str]:
        if not self.enabled:
            return []
        return [f"variations:{self.variations}", f"noise:{self.noise:g}"]


@dataclass(frozen=True)
class GenerationRequest:
    fields: tuple[FieldSpec, ...]
    rows: int
    format: str = "parquet"
    quality: str = "balanced"
    verification: bool = False
    augmentation: Augmentation = Augmentation()
    seed: int = 0

    @property
    def verify_every_row(self) -> bool:
        """Full verification runs when asked for, and always at ``high`` quality."""
        return self.verification or self.quality == "high"

    @classmethod
    def from_config(cls, config: dict, *, default_seed: int = 0) -> GenerationRequest:
        """The request a job's stored ``config`` describes (``seed`` optional: the job's own by default)."""
        quality = config.get("quality") or "balanced"
        file_format = config.get("format") or "parquet"
        if quality not in QUALITIES:
            raise UNGENERATABLE_SCHEMA(f"quality must be one of {', '.join(QUALITIES)}")
        if file_format not in FORMATS:
            raise UNGENERATABLE_SCHEMA(f"format must be one of {', '.join(FORMATS)}")
        schema, rows = config.get("schema"), config.get("rows")
        if not isinstance(schema, list) or not schema:
            raise UNGENERATABLE_SCHEMA("the job has no schema to generate")
        if not isinstance(rows, int) or isinstance(rows, bool) or rows < 0:
            raise UNGENERATABLE_SCHEMA("the job's row count must be a whole number >= 0")
        seed = config.get("seed")
        return cls(
            fields=tuple(FieldSpec.from_schema(field) for field in schema),
            rows=rows,
            format=file_format,
            quality=quality,
            verification=bool(config.get("verification", False)),
            augmentation=Augmentation.from_config(config.get("augmentation")),
            seed=int(seed) if isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0 else default_seed,
        )


def seed_for(identifier: str) -> int:
    """A stable 63-bit seed derived from an identifier (a job id), so a re-run writes the same bytes."""
    return int.from_bytes(hashlib.sha256(identifier.encode()).digest()[:8], "big") >> 1
