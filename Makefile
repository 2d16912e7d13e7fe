# The two commands a new user needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint unit integration e2e envtest helm venv clean

venv: $(STAMP)

# Reinstall whenever the project metadata or the constraints change.
$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "ctsync needs Python >= 3.11")'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

envtest:
	@hack/envtest.sh >/dev/null

helm:
	@hack/helm.sh >/dev/null

demo: venv
	$(VENV)/bin/ctsync demo

test: venv envtest helm
	HELM="$$(hack/helm.sh)" KUBEBUILDER_ASSETS="$$(hack/envtest.sh)" hack/pytest.sh tests

lint: venv
	$(VENV)/bin/ruff check operator tests bench hack
	$(VENV)/bin/ruff format --check operator tests bench hack
	$(VENV)/bin/mypy operator/ctsync operator/entrasim
	$(VENV)/bin/lint-imports

unit: venv
	hack/pytest.sh tests/unit

integration: venv
	hack/pytest.sh tests/integration

e2e: venv envtest helm
	HELM="$$(hack/helm.sh)" KUBEBUILDER_ASSETS="$$(hack/envtest.sh)" hack/pytest.sh tests/e2e

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
