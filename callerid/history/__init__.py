"""Manager history services: missed calls to return, insights, the call log and retention.

Deliberately empty of imports: ``directory`` uses ``history.retention`` and ``history.relink``,
and importing one module here must never drag in the others.
"""
