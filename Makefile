# The two commands a new user needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

# The one place releases go: the image is $(REGISTRY)/ctsync, the chart oci://$(REGISTRY)/charts/ctsync.
# The release workflow sets it from the repository variable REGISTRY (docs/install.md).
REGISTRY ?= ghcr.io/ctsync
# The version of the package, the chart and the image; hack/release.py fails when they disagree.
VERSION = $(shell $(PYTHON) hack/release.py version)

.PHONY: demo test lint unit integration e2e envtest helm actionlint image chart venv clean

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

actionlint:
	@hack/actionlint.sh >/dev/null

demo: venv
	$(VENV)/bin/ctsync demo

# Most e2e time is waiting on the operator, so three workers (each with its own API server) fit two cores;
# an idle worker takes tests queued for a busy one, so the slow e2e tests do not end up on one worker.
TEST_WORKERS ?= 3

test: venv envtest helm actionlint
	ACTIONLINT="$$(hack/actionlint.sh)" HELM="$$(hack/helm.sh)" KUBEBUILDER_ASSETS="$$(hack/envtest.sh)" \
	  hack/pytest.sh -n $(TEST_WORKERS) --dist worksteal tests

lint: venv
	$(VENV)/bin/ruff check operator tests bench hack
	$(VENV)/bin/ruff format --check operator tests bench hack
	$(VENV)/bin/mypy operator/ctsync operator/entrasim bench
	$(VENV)/bin/lint-imports

unit: venv
	hack/pytest.sh tests/unit

integration: venv
	hack/pytest.sh tests/integration

e2e: venv envtest helm
	HELM="$$(hack/helm.sh)" KUBEBUILDER_ASSETS="$$(hack/envtest.sh)" hack/pytest.sh tests/e2e

# The operator image, for this machine's platform (the release workflow builds amd64 and arm64).
image:
	docker build -t $(REGISTRY)/ctsync:$(VERSION) .

# The chart as a release publishes it, defaulting to the image $(REGISTRY)/ctsync: $(DIST)/ctsync-$(VERSION).tgz.
DIST ?= dist
chart: helm
	rm -rf $(DIST)/chart && mkdir -p $(DIST)/chart && cp -R charts/ctsync $(DIST)/chart/
	$(PYTHON) hack/release.py image-repository $(REGISTRY) $(DIST)/chart/ctsync >/dev/null
	"$$(hack/helm.sh)" package $(DIST)/chart/ctsync --version $(VERSION) --destination $(DIST)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache dist
