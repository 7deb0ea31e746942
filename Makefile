# procrec: `make demo` sets up and records; `make test` sets up and runs every test.
DENO := node_modules/.bin/deno
export CBOR_NATIVE_ACCELERATION_DISABLED := true

.PHONY: setup build demo test test-c test-deno lint bench clean deb

setup:
	bash scripts/setup.sh

build:
	$(MAKE) -C driver/linux
	$(MAKE) -C driver/windows

demo: setup
	./procrec doctor
	./procrec record -f --only-command -o recordings/demo.cbor -- sh -c 'for i in 1 2 3; do ls / >/dev/null; done; (sleep 0.2; exit 3); true'
	./procrec replay recordings/demo.cbor
	./procrec replay --summary recordings/demo.cbor

lint:
	$(DENO) fmt --check
	$(DENO) lint
	$(DENO) check cli/ tests/

test-c:
	$(MAKE) -C driver/common test
	$(MAKE) -C driver/linux test
	$(MAKE) -C driver/tests test
	$(MAKE) -C driver/windows test

test-deno:
	# one test file at a time: capture tests record the whole host and must not
	# see the processes of other tests, nor compete with them for the CPU
	$(DENO) test --allow-all --doc cli/ tests/

test: setup
	$(MAKE) lint
	$(MAKE) test-c
	$(MAKE) test-deno

bench: setup
	$(DENO) task bench

# the Debian package: build/procrec_<version>_amd64.deb (packaging/deb/)
deb: setup
	bash packaging/deb/build_deb.sh build

clean:
	rm -rf driver/linux/build driver/windows/build driver/common/build driver/tests/build build share
