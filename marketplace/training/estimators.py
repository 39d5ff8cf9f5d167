"""The estimators a model can be trained from (``baseModel``), and how the training knobs map to them.

``baseModel`` names one of ``BASE_MODELS`` (optionally behind a provider prefix:
``sklearn/random-forest`` is ``random-forest``). ``epochs``, ``batchSize`` and ``learningRate``
are passed to the estimator where they mean something, as the table says; every value asked for
is recorded in the model's ``additionalMetrics.hyperparameterMapping`` either way, with what it
became (or ``"not used"``). Other hyperparameters (besides ``target``) are read by name:

- logistic-regression: LogisticRegression (lbfgs); epochs -> max_iter = 100 x epochs; C.
- sgd-classifier: SGDClassifier (log loss); epochs -> passes of partial_fit over shuffled
  mini-batches of batchSize rows; learningRate -> eta0 (constant schedule); alpha.
- mlp-classifier: MLPClassifier (adam); epochs -> passes of partial_fit; batchSize -> batch_size;
  learningRate -> learning_rate_init; hiddenLayers (list of layer sizes, default [64]).
- random-forest: RandomForestClassifier; nEstimators (default 100), maxDepth; knobs not used.
- gradient-boosting: HistGradientBoostingClassifier; epochs -> max_iter (boosting rounds);
  learningRate -> learning_rate; maxDepth; batchSize not used.
- decision-tree: DecisionTreeClassifier; maxDepth; knobs not used.
- naive-bayes: GaussianNB; knobs not used.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.naive_bayes import GaussianNB
from sklearn.neural_network import MLPClassifier
from sklearn.tree import DecisionTreeClassifier

from marketplace.engine import conf
from marketplace.engine.errors import INVALID_TRAINING

DEFAULT_EPOCHS = 10
DEFAULT_BATCH_SIZE = 256
DEFAULT_LEARNING_RATE = 0.01
WARM_START_STEPS = 10
NOT_USED = "not used"
HELD_OUT_SHARE = 0.2  # of the rows, kept out of fitting for the metrics


@dataclass
class TrainingSettings:
    epochs: int
    batch_size: int
    learning_rate: float
    hyperparameters: dict
    seed: int
    mapping: dict = field(default_factory=dict)

    def number(self, name: str, default, *, low, high, cast=float):
        value = self.hyperparameters.get(name, default)
        if value is None:
            return None
        try:
            value = cast(value)
        except (TypeError, ValueError):
            raise INVALID_TRAINING(f"hyperparameters.{name} must be a number", details={"hyperparameters": name})
        if not low <= value <= high:
            raise INVALID_TRAINING(
                f"hyperparameters.{name} must be between {low} and {high}", details={"hyperparameters": name}
            )
        return value


# A trainer fits ``estimator`` on (X, y), calling ``step(fraction_done, estimator)`` along the way.
Trainer = Callable[[object, np.ndarray, np.ndarray, np.ndarray, "TrainingSettings", Callable], object]


def _fit_once(estimator, features, labels, classes, settings, step):
    estimator.fit(features, labels)
    step(1.0, estimator)
    return estimator


def _fit_in_passes(estimator, features, labels, classes, settings, step):
    """``epochs`` passes of partial_fit over shuffled mini-batches of ``batchSize`` rows."""
    rng = np.random.default_rng(settings.seed)
    uses_own_batches = isinstance(estimator, MLPClassifier)
    for epoch in range(settings.epochs):
        if uses_own_batches:
            estimator.partial_fit(features, labels, classes=classes)
        else:
            order = rng.permutation(len(labels))
            for start in range(0, len(order), settings.batch_size):
                rows = order[start : start + settings.batch_size]
                estimator.partial_fit(features[rows], labels[rows], classes=classes)
        step((epoch + 1) / settings.epochs, estimator)
    return estimator


def _fit_growing(attribute: str, total: int):
    """Warm-started ensembles: grow ``attribute`` to ``total`` in steps, reporting after each."""

    def fit(estimator, features, labels, classes, settings, step):
        steps = min(WARM_START_STEPS, total)
        for index in range(1, steps + 1):
            setattr(estimator, attribute, max(1, round(total * index / steps)))
            estimator.fit(features, labels)
            step(index / steps, estimator)
        return estimator

    return fit


def _logistic_regression(settings):
    max_iter = settings.epochs * 100
    settings.mapping.update(
        epochs=f"max_iter={max_iter}", batchSize=NOT_USED, learningRate=NOT_USED + " (lbfgs sets its own steps)"
    )
    c = settings.number("C", 1.0, low=1e-6, high=1e6)
    return LogisticRegression(max_iter=max_iter, C=c), _fit_once


def _sgd(settings):
    alpha = settings.number("alpha", 1e-4, low=0, high=10)
    settings.mapping.update(
        epochs=f"{settings.epochs} passes",
        batchSize=f"mini-batches of {settings.batch_size}",
        learningRate=f"eta0={settings.learning_rate} (constant)",
    )
    estimator = SGDClassifier(
        loss="log_loss", learning_rate="constant", eta0=settings.learning_rate, alpha=alpha, random_state=settings.seed
    )
    return estimator, _fit_in_passes


def _mlp(settings):
    layers = settings.hyperparameters.get("hiddenLayers") or [64]
    most, widest = conf.TRAINING_MAX_HIDDEN_LAYERS, conf.TRAINING_MAX_LAYER_SIZE
    if (
        not isinstance(layers, list)
        or not 1 <= len(layers) <= most
        or not all(isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= widest for n in layers)
    ):
        raise INVALID_TRAINING(
            f"hyperparameters.hiddenLayers must be a list of 1 to {most} layer sizes, each 1 to {widest}",
            details={"hyperparameters": "hiddenLayers"},
        )
    settings.mapping.update(
        epochs=f"{settings.epochs} passes",
        batchSize=f"batch_size={settings.batch_size}",
        learningRate=f"learning_rate_init={settings.learning_rate}",
    )
    estimator = MLPClassifier(
        hidden_layer_sizes=tuple(layers),
        learning_rate_init=settings.learning_rate,
        batch_size=settings.batch_size,
        random_state=settings.seed,
    )
    return estimator, _fit_in_passes


def _random_forest(settings):
    trees = settings.number("nEstimators", 100, low=1, high=conf.TRAINING_MAX_TREES, cast=int)
    depth = settings.number("maxDepth", None, low=1, high=conf.TRAINING_MAX_DEPTH, cast=int)
    settings.mapping.update(epochs=NOT_USED, batchSize=NOT_USED, learningRate=NOT_USED)
    estimator = RandomForestClassifier(n_estimators=1, max_depth=depth, warm_start=True, random_state=settings.seed)
    return estimator, _fit_growing("n_estimators", trees)


def _gradient_boosting(settings):
    depth = settings.number("maxDepth", None, low=1, high=conf.TRAINING_MAX_DEPTH, cast=int)
    settings.mapping.update(
        epochs=f"max_iter={settings.epochs} boosting rounds",
        batchSize=NOT_USED,
        learningRate=f"learning_rate={settings.learning_rate}",
    )
    estimator = HistGradientBoostingClassifier(
        learning_rate=settings.learning_rate,
        max_iter=1,
        max_depth=depth,
        early_stopping=False,
        warm_start=True,
        random_state=settings.seed,
    )
    return estimator, _fit_growing("max_iter", settings.epochs)


def _decision_tree(settings):
    depth = settings.number("maxDepth", None, low=1, high=conf.TRAINING_MAX_DEPTH, cast=int)
    settings.mapping.update(epochs=NOT_USED, batchSize=NOT_USED, learningRate=NOT_USED)
    return DecisionTreeClassifier(max_depth=depth, random_state=settings.seed), _fit_once


def _naive_bayes(settings):
    settings.mapping.update(epochs=NOT_USED, batchSize=NOT_USED, learningRate=NOT_USED)
    return GaussianNB(), _fit_once


BASE_MODELS = {
    "logistic-regression": _logistic_regression,
    "sgd-classifier": _sgd,
    "mlp-classifier": _mlp,
    "random-forest": _random_forest,
    "gradient-boosting": _gradient_boosting,
    "decision-tree": _decision_tree,
    "naive-bayes": _naive_bayes,
}
BASE_MODEL_NAMES = tuple(BASE_MODELS)


def base_model_key(base_model: str) -> str:
    """``sklearn/random-forest`` -> ``random-forest``; INVALID_TRAINING for an unknown one."""
    key = base_model.rsplit("/", 1)[-1].strip().lower()
    if key not in BASE_MODELS:
        raise INVALID_TRAINING(
            f"baseModel must be one of {', '.join(BASE_MODEL_NAMES)}", details={"baseModel": base_model}
        )
    return key


def _bounded(value, default, *, low, high, cast, name):
    if value is None:
        return default
    try:
        value = cast(value)
    except (TypeError, ValueError):
        raise INVALID_TRAINING(f"trainingConfig.{name} must be a number", details={"trainingConfig": name})
    if not low <= value <= high:
        raise INVALID_TRAINING(
            f"trainingConfig.{name} must be between {low} and {high}", details={"trainingConfig": name}
        )
    return value


def settings_from(config: dict, *, seed: int) -> TrainingSettings:
    hyperparameters = config.get("hyperparameters") or {}
    if not isinstance(hyperparameters, dict):
        raise INVALID_TRAINING("trainingConfig.hyperparameters must be an object")
    return TrainingSettings(
        epochs=_bounded(
            config.get("epochs"), DEFAULT_EPOCHS, low=1, high=conf.TRAINING_MAX_EPOCHS, cast=int, name="epochs"
        ),
        batch_size=_bounded(
            config.get("batchSize"),
            DEFAULT_BATCH_SIZE,
            low=1,
            high=conf.TRAINING_MAX_BATCH_SIZE,
            cast=int,
            name="batchSize",
        ),
        learning_rate=_bounded(
            config.get("learningRate"), DEFAULT_LEARNING_RATE, low=1e-7, high=10.0, cast=float, name="learningRate"
        ),
        hyperparameters=hyperparameters,
        seed=seed,
    )


def estimator_for(base_model: str, settings: TrainingSettings):
    """(estimator, trainer) for ``base_model``; ``settings.mapping`` records what each knob became."""
    return BASE_MODELS[base_model_key(base_model)](settings)


def training_request_check(*, base_model: str, config: dict, rows: int) -> None:
    """INVALID_TRAINING (a 400) when the job could not run or would exceed a cap, checked when the
    training is asked for, before a model or job exists: the base model, every knob and
    hyperparameter in its range (the same checks the job makes), and for estimators trained in
    mini-batch passes, ``epochs x batches per epoch`` within ``TRAINING_MAX_STEPS`` for the rows
    the job will read."""
    settings = settings_from(config, seed=0)
    _, trainer = estimator_for(base_model, settings)
    if trainer is not _fit_in_passes:
        return
    train_rows = max(1, math.ceil(min(rows, conf.TRAINING_MAX_ROWS) * (1 - HELD_OUT_SHARE)))
    steps = settings.epochs * math.ceil(train_rows / settings.batch_size)
    if steps > conf.TRAINING_MAX_STEPS:
        raise INVALID_TRAINING(
            f"epochs x batches per epoch is {steps} mini-batch steps for {train_rows} training rows; at most"
            f" {conf.TRAINING_MAX_STEPS}: fewer epochs or a larger batchSize",
            details={"trainingConfig": "epochs"},
        )
