"""Fault tests: the production profile under lost nodes, killed workers and restarts."""

import pytest

pytest.register_assert_rewrite("tests.faults.checks")
