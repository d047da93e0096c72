"""The symptom check (issue 3): a pure engine over the flow in ``content/data/triage.yaml``.

No ``telegram`` imports here: handlers call these functions and send what they render.
"""
