"""Accounts of KGSM's web panel: sign-ins, users and linked identities.

Administration of KGSM itself, not news for players: kept quiet (stored and listed by /events, posted only when
a user unmutes the family).
"""

from bot.events.model import Family, Outcome, Subject
from bot.events.vocabulary.entry import declare, entry

KINDS = declare(
    Family.AUTH,
    Subject.USER,
    entry("auth.signed_in", "signed in", "🔑", legacy="auth_login", outcome=Outcome.SUCCESS, quiet=True),
    entry("auth.signed_out", "signed out", "🔑", legacy="auth_logout", quiet=True),
    entry("auth.session.revoked", "sessions revoked", "🔑", legacy="auth_session_revoked", quiet=True),
    entry("auth.cluster.vouched", "signed in through the cluster", "🔑", legacy="auth_cluster_session", quiet=True),
    entry("user.provisioned", "account created", "👤", legacy="user_provisioned", quiet=True),
    entry("user.approved", "account approved", "👤", legacy="user_approved", quiet=True),
    entry("user.disabled", "account disabled", "👤", legacy="user_disabled", quiet=True),
    entry("user.tier_changed", "account tier changed", "👤", legacy="user_tier_changed", quiet=True),
    entry("user.deleted", "account deleted", "👤", legacy="user_deleted", quiet=True),
    entry("user.password_changed", "password changed", "👤", legacy="user_password_changed", quiet=True),
    entry("identity.linked", "identity linked", "🔗", legacy="identity_linked", quiet=True),
    entry("identity.unlinked", "identity unlinked", "🔗", legacy="identity_unlinked", quiet=True),
)
