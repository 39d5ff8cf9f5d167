from decimal import Decimal

import factory

from coder.models import AIModel, CoderAccount, Repository, Task
from tests.factories import UserFactory


class CoderAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CoderAccount

    user = factory.SubFactory(UserFactory)
    credits = 100


class RepositoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Repository

    user = factory.SubFactory(UserFactory)
    github_id = factory.Sequence(lambda n: 1000 + n)
    name = factory.Sequence(lambda n: f"repo-{n}")
    full_name = factory.LazyAttribute(lambda repo: f"octo/{repo.name}")
    default_branch = "main"
    url = factory.LazyAttribute(lambda repo: f"https://github.com/{repo.full_name}")
    clone_url = factory.LazyAttribute(lambda repo: f"https://github.com/{repo.full_name}.git")


class AIModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AIModel

    name = factory.Sequence(lambda n: f"test-model-{n}")
    display_name = factory.LazyAttribute(lambda model: model.name.title())
    provider = "openai"
    cost_per_token = Decimal("0.0000100000")  # 1 credit per 1000 tokens at $0.01 a credit
    max_tokens = 16000
    capabilities = ["debug", "ask", "documentation"]


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Task

    user = factory.SubFactory(UserFactory)
    repository = factory.SubFactory(RepositoryFactory, user=factory.SelfAttribute("..user"))
    ai_model = factory.SubFactory(AIModelFactory)
    title = factory.Sequence(lambda n: f"Task {n}")
    prompt = "Fix the bug"
    branch = "main"
    target_branch = "main"
    type = Task.Type.DEBUG
    estimated_credits = 10
