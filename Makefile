# rosetta: the README's commands.
#   make build  - the module: target/wasm32-wasip1/release/rosetta.wasm
#   make demo   - the module run on the bundled example logs through the host
#   make test   - lints, the module, unit and integration tests
#   make bench  - fuel and speed figures

WASM := target/wasm32-wasip1/release/rosetta.wasm
MAX_WASM_BYTES := 1048576
CARGO ?= cargo

.PHONY: build demo test lint bench fmt clean

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

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
