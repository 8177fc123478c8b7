# Two commands matter (README): `make plan STACK=dev` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
STACK ?= dev
PY := $(VENV)/bin/python

.PHONY: plan test lint venv dev-venv engine kube-tools kube-up kube-down e2e

# The runtime (the program, `python -m ops`) for `make plan`; the test and lint toolchain on top for `make test`.
$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt requirements-ci-tools.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed
dev-venv: $(VENV)/.installed-dev

plan: venv
	$(PY) -m ops plan --stack $(STACK)

lint: dev-venv
	$(PY) -m ruff check .
	$(PY) -m policies.table --check docs/policies.md
	$(PY) -m policies.table --settings --check docs/policies.md

test: dev-venv lint
	$(PY) -m pytest -q -n 2

# The real Pulumi engine (CLI, Python language host, random and kubernetes providers) in .tools/bin, built from the
# Go module proxy and cached in ~/.cache/gitpod-cell/bin (tools/build-engine.sh says what each binary is).
engine:
	bash tools/build-engine.sh

# A real kube-apiserver + etcd + kubectl for tests, built from Go modules (tools/kube) into .tools/bin; cached in
# ~/.cache/gitpod-cell, so a warm machine only copies them.
kube-tools:
	tools/build-kube.sh

# Starts etcd + kube-apiserver on free loopback ports (data in .kube-local/) and installs the cert-manager CRDs the
# cell pins; the last line of output is the admin kubeconfig's path.
kube-up: venv
	$(PY) -m tools.localkube up

kube-down:
	$(PYTHON) -m tools.localkube down

# A cell on a laptop-sized local cluster under the real engine: the local stack (stacks/Pulumi.local.yaml) previewed
# with the policy pack, `pulumi up` with its six rollout hooks, a failing health gate, a two-wave `ops rollout`, and
# `pulumi destroy`, against a local API server, MariaDB and moto's S3 (tools/e2e). Report: .e2e/report.json.
e2e: dev-venv engine kube-tools
	$(PY) -u -m tools.e2e
