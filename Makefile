# Nuwa: entry points. Every target does its own set-up through `deps`.
BOARD ?= qemu-arm-virt
VENV  := .venv
NUWA  := $(VENV)/bin/nuwa
# Every board folder; `make test` builds and boots each (the full system tests on BOARD).
BOARDS := $(patsubst board/%/board.toml,%,$(wildcard board/*/board.toml))

.PHONY: all deps runtime image images run demo bench test lint clean

all: image

deps:
	@host-tools/deps.sh

# Native runtime builds used by the tests: plain, sanitizer (ASan+UBSan) and musl.
runtime: deps
	$(MAKE) -C runtime
	$(MAKE) -C runtime sanitize
	$(MAKE) -C runtime CC=musl-gcc

# IMAGE_ARGS: e.g. --offline (cache only) or --mirror URL.
IMAGE_ARGS ?=
image: deps
	$(NUWA) image --board $(BOARD) $(IMAGE_ARGS)

images: deps
	@for b in $(BOARDS); do $(NUWA) image --board $$b $(IMAGE_ARGS) || exit 1; done

run: image
	$(NUWA) run --board $(BOARD)

demo: image
	$(NUWA) demo --board $(BOARD)

bench: image
	$(NUWA) bench --board $(BOARD)

lint: deps
	$(VENV)/bin/ruff check host-tools tests

test: deps runtime images lint
	$(VENV)/bin/pytest --durations=15 tests

clean:
	rm -rf out runtime/build
