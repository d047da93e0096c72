"""Admin domain: roles, the audit log, drafts, diffs, checks, versions, approvals, stats
and announcements. Telegram-free; the handlers in ``handlers/admin*.py`` call it."""
