import orjson
from rest_framework.renderers import JSONRenderer as DRFJSONRenderer
from rest_framework.utils.encoders import JSONEncoder


class JSONRenderer(DRFJSONRenderer):
    """orjson for speed; anything orjson does not know goes through DRF's encoder."""

    _fallback = JSONEncoder()

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        return orjson.dumps(data, default=self._fallback.default, option=orjson.OPT_NON_STR_KEYS)
