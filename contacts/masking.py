"""Masking of personal data. Everything shown to people or in the API goes through here unless a
permitted person revealed it."""


def mask_nick(nick):
    """`tony` -> `t***y`; one- and two-character nicks keep only their first character."""
    if not nick:
        return nick
    if len(nick) <= 2:
        return nick[0] + "***"
    return f"{nick[0]}***{nick[-1]}"


def mask_phone(phone):
    """`13812345678` -> `138****5678`; shorter numbers keep at most their last 4 digits."""
    if not phone:
        return phone
    if len(phone) >= 11:
        return f"{phone[:3]}****{phone[-4:]}"
    if len(phone) > 4:
        return "****" + phone[-4:]
    return "****"
