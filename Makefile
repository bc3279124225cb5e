# rosetta: the README's commands.
#   make build  - the module: target/wasm32-wasip1/release/rosetta.wasm
#   make demo   - the module run on the bundled example logs through the host
#   make test   - lints, the module, unit and integration tests
#   make bench  - fuel and speed figures
#   make soak   - 10,000,000 mixed records through one instance (not in CI)

WASM := target/wasm32-wasip1/release/rosetta.wasm
MAX_WASM_BYTES := 1048576
CARGO ?= cargo
SOAK_RECORDS ?= 10000000

.PHONY: build demo test lint bench soak fmt clean

build:
	$(CARGO) build --release --lib --target wasm32-wasip1
	@size=$$(stat -c %s $(WASM)); \
	  echo "rosetta.wasm: $$size bytes"; \
	  if [ $$size -gt $(MAX_WASM_BYTES) ]; then echo "rosetta.wasm is over 1 MiB: too big for a ConfigMap" >&2; exit 1; fi

REPLAY := $(CARGO) run --quiet --profile host --example replay --

demo: build
	@echo "== istio-proxy sidecar through rosetta_envoy (Match kube.*.istio-proxy)" >&2
	$(REPLAY) --function rosetta_envoy examples/logs/*_istio-proxy.log
	@echo "== ingress controller through rosetta_nginx_ingress" >&2
	$(REPLAY) --function rosetta_nginx_ingress examples/logs/ingress-nginx_*_controller.log
	@echo "== every container through rosetta_filter with examples/rosetta.toml" >&2
	$(REPLAY) --config examples/rosetta.toml examples/logs/*.log

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --lib --target wasm32-wasip1 -- -D warnings
	$(CARGO) clippy --workspace --all-targets -- -D warnings

test: build lint
	ROSETTA_WASM=$(CURDIR)/$(WASM) $(CARGO) test --workspace

bench: build
	ROSETTA_WASM=$(CURDIR)/$(WASM) $(CARGO) bench --profile host --bench fuel

soak: build
	ROSETTA_WASM=$(CURDIR)/$(WASM) $(CARGO) run --quiet --profile host --example soak -- $(SOAK_RECORDS)

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
