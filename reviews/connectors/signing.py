"""Request signatures of the Taobao Open Platform (TOP) and JD's open platform (JOS).

TOP (open.taobao.com, "API调用方法详解 / 签名算法"): sort every request parameter except `sign` by
name (ASCII order), concatenate name and value without separators, then
- sign_method=md5: MD5(secret + concatenation + secret),
- sign_method=hmac: HMAC-MD5 with the secret as key over the concatenation,
and write the digest as upper-case hex. Parameters with empty values are left out.

JOS (jos.jd.com, "签名算法"): the same MD5 scheme over the system parameters and `360buy_param_json`.
"""

import hashlib
import hmac

from ..choices import SignMethod


def _concatenated(params):
    return "".join(
        f"{name}{value}" for name, value in sorted(params.items()) if name != "sign" and value not in ("", None)
    )


def top_sign(params, secret, sign_method=SignMethod.MD5):
    """The TOP `sign` of a parameter dict (str values) with the app secret."""
    text = _concatenated(params)
    if sign_method == SignMethod.HMAC:
        digest = hmac.new(secret.encode(), text.encode(), hashlib.md5).hexdigest()
    else:
        digest = hashlib.md5((secret + text + secret).encode()).hexdigest()  # noqa: S324 (the platform prescribes MD5)
    return digest.upper()


def jos_sign(params, secret):
    """The JOS `sign`: MD5(secret + sorted name+value pairs + secret), upper-case hex."""
    return hashlib.md5((secret + _concatenated(params) + secret).encode()).hexdigest().upper()  # noqa: S324 (the platform prescribes MD5)


def signatures_match(expected, given):
    return isinstance(given, str) and hmac.compare_digest(expected.upper(), given.upper())
