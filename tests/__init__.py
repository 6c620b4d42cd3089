import os

# In-process tests count in this process's memory, as the CLI does. A PROMETHEUS_MULTIPROC_DIR
# left in a developer's shell would send their counts to files other processes read too; it
# must go before prometheus_client is imported. Servers the tests start set their own.
os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
