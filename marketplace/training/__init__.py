"""Model training on a ready marketplace dataset, with scikit-learn (see ``jobs`` and ``estimators``)."""

from marketplace.training.estimators import BASE_MODEL_NAMES, base_model_key

__all__ = ["BASE_MODEL_NAMES", "base_model_key"]
