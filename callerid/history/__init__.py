"""Manager history services: missed calls to return, insights, retention and the audit trail.

Deliberately empty of imports: ``directory`` uses ``history.audit`` and ``history.retention``,
which use only the models, so importing one module here never drags in the others.
"""
