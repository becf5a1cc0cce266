"""The kernel runner: execute a notebook in a fresh Jupyter kernel and report the outcome.

`runner.run_notebook` is the entry point; it takes plain values (`KernelJob`) and returns
plain values (`KernelResult`), so it runs the same in a server thread and in a Celery
worker. Nothing is imported here, so that importing the package stays cheap.
"""
