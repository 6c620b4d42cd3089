"""Manager history services: missed calls to return, insights, the call log and retention.

Deliberately empty of imports: ``directory`` uses ``history.retention`` and ``history.relink``,
which use only the models, so importing one module here never drags in the others.
"""
