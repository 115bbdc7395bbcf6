pytest_plugins = ["pytest_jupyter.jupyter_server", "tests.fixtures", "tests.endpoint_support"]
