"""From a dataset file to a feature matrix and class labels.

- The target is the column named by ``hyperparameters.target``; it must hold class labels: a
  boolean, an enum, or any column with 2 to ``MAX_CLASSES`` distinct values. Rows whose target is
  null are left out.
- Features: numbers as they are; booleans as 0/1; dates and datetimes as days since 1970-01-01;
  enums, and text columns with at most ``MAX_CATEGORIES`` distinct values, one-hot encoded.
  Identifiers and free text (UUIDs, e-mail addresses, names, phones, addresses, URLs, JSON,
  high-cardinality text) are left out: they name a row rather than describe it. Missing numbers
  take the column's median, missing categories the most frequent one (learnt on the training split).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from marketplace.engine.errors import INVALID_TRAINING
from marketplace.engine.spec import FieldSpec

MAX_CLASSES = 50
MAX_CATEGORIES = 50
MIN_ROWS = 10
IDENTIFIER_TYPES = frozenset({"uuid", "email", "name", "phone", "address", "url", "json"})
SECONDS_PER_DAY = 86_400


@dataclass
class TrainingData:
    features: dict[str, np.ndarray]
    numeric: list[str]
    categorical: list[str]
    dropped: list[str]
    labels: np.ndarray
    target: str

    @property
    def columns(self) -> list[str]:
        return [*self.numeric, *self.categorical]

    def matrix_columns(self) -> np.ndarray:
        """Rows x used columns, as objects (numbers stay floats) for the column transformer."""
        return np.column_stack([self.features[name] for name in self.columns]).astype(object)


def _numeric(column: pa.Array) -> np.ndarray:
    kind = column.type
    if pa.types.is_boolean(kind):
        column = column.cast(pa.int8())
    elif pa.types.is_date(kind):
        column = column.cast(pa.int32())
    elif pa.types.is_timestamp(kind):
        column = pc.divide(
            column.cast(pa.timestamp("s", tz="UTC")).cast(pa.int64()).cast(pa.float64()), SECONDS_PER_DAY
        )
    return np.asarray(column.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)


def _is_class_column(spec: FieldSpec | None, column: pa.Array) -> bool:
    if spec is not None and (spec.type in ("boolean", "enum") or spec.enum):
        return True
    distinct = len(pc.unique(column.drop_null()))
    return 2 <= distinct <= MAX_CLASSES and not pa.types.is_floating(column.type)


def _labels(table: pa.Table, spec: FieldSpec | None, target: str) -> np.ndarray:
    """The target column's values as class labels (INVALID_TRAINING when they cannot be learnt)."""
    target_column = table.column(target).combine_chunks()
    if len(target_column) < MIN_ROWS:
        raise INVALID_TRAINING(f"the dataset has fewer than {MIN_ROWS} rows with a '{target}' value")
    if not _is_class_column(spec, target_column):
        raise INVALID_TRAINING(
            f"the target '{target}' must hold class labels: a boolean, an enum or 2-{MAX_CLASSES} distinct values",
            details={"target": target},
        )
    labels = np.asarray([str(value) for value in target_column.to_pylist()], dtype=object)
    if len(set(labels)) < 2:
        raise INVALID_TRAINING(f"the target '{target}' has a single value: there is nothing to learn")
    return labels


def _is_numeric(kind: pa.DataType) -> bool:
    return (
        pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_date(kind)
        or pa.types.is_timestamp(kind)
    )


def _feature_kind(column: pa.Array, spec: FieldSpec | None) -> str:
    """``numeric``, ``categorical`` or ``dropped`` (identifiers, free text, other types)."""
    kind = column.type
    if spec is not None and spec.type in IDENTIFIER_TYPES and not spec.enum:
        return "dropped"
    if _is_numeric(kind):
        return "numeric"
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        is_enum = spec is not None and (spec.enum or spec.type == "enum")
        if is_enum or len(pc.unique(column.drop_null())) <= MAX_CATEGORIES:
            return "categorical"
    return "dropped"


def training_data(table: pa.Table, specs: list[FieldSpec], target: str) -> TrainingData:
    """Features and labels of ``table`` (INVALID_TRAINING when the target cannot be learnt)."""
    by_name = {spec.name: spec for spec in specs}
    if target not in table.column_names:
        raise INVALID_TRAINING(
            f"hyperparameters.target names no column of the dataset (columns: {', '.join(table.column_names)})",
            details={"target": target},
        )
    table = table.filter(table.column(target).is_valid())
    labels = _labels(table, by_name.get(target), target)
    features: dict[str, np.ndarray] = {}
    columns: dict[str, list[str]] = {"numeric": [], "categorical": [], "dropped": []}
    for name in table.column_names:
        if name == target:
            continue
        column = table.column(name).combine_chunks()
        kind = _feature_kind(column, by_name.get(name))
        columns[kind].append(name)
        if kind == "numeric":
            features[name] = _numeric(column)
        elif kind == "categorical":
            features[name] = np.asarray(
                [np.nan if value is None else value for value in column.to_pylist()], dtype=object
            )
    if not columns["numeric"] and not columns["categorical"]:
        raise INVALID_TRAINING(
            "the dataset has no column usable as a feature (only identifiers and free text)",
            details={"dropped": columns["dropped"]},
        )
    return TrainingData(features, columns["numeric"], columns["categorical"], columns["dropped"], labels, target)


def feature_transformer(data: TrainingData) -> ColumnTransformer:
    numeric_positions = list(range(len(data.numeric)))
    categorical_positions = list(range(len(data.numeric), len(data.columns)))
    transformers = []
    if numeric_positions:
        transformers.append(
            ("numbers", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric_positions)
        )
    if categorical_positions:
        transformers.append(
            (
                "categories",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"),
                    OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                ),
                categorical_positions,
            )
        )
    return ColumnTransformer(transformers, sparse_threshold=0.0)
