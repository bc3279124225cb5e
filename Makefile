# rosetta: the README's commands.
#   make build  - the module: target/wasm32-wasip1/release/rosetta.wasm
#   make demo   - the module run on the bundled example logs through the host
#   make test   - lints, the module, unit and integration tests
#   make bench  - fuel and speed figures
#   make soak   - 10,000,000 mixed records through one instance (not in CI)
#   make aot    - the module compiled ahead of time for this machine's CPU:
#                 target/rosetta.aot, with fluent-bit's flb-wamrc
#
# With CARGO_TARGET_DIR set, `target/` above is that directory.

TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
WASM := $(TARGET_DIR)/wasm32-wasip1/release/rosetta.wasm
AOT := $(TARGET_DIR)/rosetta.aot
# A ConfigMap holds at most 1 MiB (fluent-bit-conf/kubernetes/).
MAX_WASM_BYTES := 1048576
CARGO ?= cargo
SOAK_RECORDS ?= 10000000
WAMRC ?= flb-wamrc
# --disable-simd: fluent-bit builds WAMR without SIMD and refuses an .aot
# file that declares it; flb-wamrc then fails if the module ever used SIMD.
# Add --target=<arch> and --cpu=<cpu> to compile for other nodes than this
# machine (flb-wamrc's default CPU is this machine's own model).
WAMRC_FLAGS ?= --disable-simd

.PHONY: build aot demo test lint bench soak fmt clean

build:
	$(CARGO) build --release --lib --target wasm32-wasip1
	@size=$$(stat -c %s $(WASM)) || exit 1; \
	  echo "rosetta.wasm: $$size bytes"; \
	  if [ $$size -gt $(MAX_WASM_BYTES) ]; then echo "rosetta.wasm is over 1 MiB: too big for a ConfigMap" >&2; exit 1; fi

# flb-wamrc is built with fluent-bit (cmake -DFLB_WAMRC=On) and must be the
# one of the fluent-bit version that loads the .aot file: the AOT format is
# tied to fluent-bit's WAMR version, and the code to one CPU architecture.
aot:
	@command -v $(WAMRC) >/dev/null 2>&1 || { \
	  echo "make aot: $(WAMRC) is not on the PATH." >&2; \
	  echo "It is the AOT compiler built with fluent-bit itself: build the fluent-bit" >&2; \
	  echo "version your nodes run with cmake -DFLB_WAMRC=On (it needs LLVM; see" >&2; \
	  echo "https://docs.fluentbit.io/manual/development/wasm-filter-plugins) and put" >&2; \
	  echo "its bin/flb-wamrc on the PATH, or pass WAMRC=/path/to/flb-wamrc." >&2; \
	  exit 1; }
	@$(MAKE) --no-print-directory build
	$(WAMRC) $(WAMRC_FLAGS) -o $(AOT) $(WASM)
	@echo "rosetta.aot: $$(stat -c %s $(AOT)) bytes; set the wasm filters' Wasm_Path to it"

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
	ROSETTA_WASM=$(abspath $(WASM)) $(CARGO) test --workspace

bench: build
	ROSETTA_WASM=$(abspath $(WASM)) $(CARGO) bench --profile host --bench fuel

soak: build
	ROSETTA_WASM=$(abspath $(WASM)) $(CARGO) run --quiet --profile host --example soak -- $(SOAK_RECORDS)

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
