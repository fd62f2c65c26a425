import itertools

import factory
from django.contrib.auth import get_user_model

from reviews.models import ApiKey, Shop
from tickets.choices import Role
from tickets.models import AgentProfile

_counter = itertools.count(1)


class ShopFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shop

    external_id = factory.Sequence(lambda n: f"tb-{n:05d}")
    platform = "taobao"
    name = factory.Sequence(lambda n: f"测试旗舰店{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "pw-123456")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def make_agent(*shops, role=Role.AGENT, username=None, **profile):
    user = UserFactory(username=username or f"agent{next(_counter)}")
    agent = AgentProfile.objects.create(user=user, role=role, **profile)
    agent.shops.set(shops)
    return user


def make_api_key(*shops, name="sync"):
    """Returns (ApiKey, raw key)."""
    key = ApiKey(name=name)
    raw = key.set_new_key()
    key.save()
    key.shops.set(shops)
    return key, raw
