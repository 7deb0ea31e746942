# driver/linux/ebpf/ebpf.mk - the eBPF source's part of the Linux build.
# Included by driver/linux/Makefile (after it sets its default goal: the
# rules here would otherwise become the default); paths are relative to
# driver/linux.
#
# Defines for the including Makefile:
#   EBPF_OK      "yes" when clang (BPF target), bpftool and libbpf's headers
#                and library are present, else "no"
#   EBPF_WHY     why not (empty when EBPF_OK is yes)
#   EBPF_SRC     source_ebpf.c, or source_ebpf_unavailable.c when EBPF_OK is no
#   EBPF_DEPS    files the library build depends on (the generated skeleton)
#   EBPF_CFLAGS  include path of the skeleton; -DPR_EBPF_UNAVAILABLE_WHY="..." when not built
#   EBPF_LDLIBS  -lbpf: libbpf.so.1 linked dynamically (Debian's libbpf.a is
#                not position-independent, so it cannot go into the .so)
# Targets:
#   ebpf-test     builds and runs ebpf/test_ebpf.c against $(BUILD)/libprocrec.so
#                 (the storm of ebpf/storm.c, forced loss, no privilege),
#                 loads the programs as a kernel without bpf_loop would
#                 (ebpf/test_bpf_load.c), and checks that the build's minimal
#                 BTF relocates them as the kernel's BTF does (ebpf/test_min_btf.c)
#   ebpf-vmlinux  regenerates ebpf/vmlinux.h from this machine's kernel BTF
#
# The committed ebpf/vmlinux.h (bpftool btf dump of a 6.18 kernel) makes the
# build independent of the build machine's BTF: CO-RE relocations adapt the
# programs to the running kernel when they load. A machine without BTF still
# builds; at run time the eBPF source then reports "no BTF" and `auto` uses
# the proc connector.

BUILD ?= build
EBPF_BUILD := $(BUILD)/ebpf
EBPF_CLANG ?= clang
EBPF_BPFTOOL ?= $(shell PATH="$$PATH:/usr/sbin:/sbin" command -v bpftool)
EBPF_STRIP ?= $(shell command -v llvm-strip)
EBPF_ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/' -e 's/ppc64le/powerpc/' -e 's/s390x/s390/')

EBPF_WHY :=
ifeq ($(shell command -v $(EBPF_CLANG)),)
EBPF_WHY := clang is not installed (Debian: apt-get install clang llvm)
else ifeq ($(shell $(EBPF_CLANG) -print-targets 2>/dev/null | grep -c '^ *bpf '),0)
EBPF_WHY := $(EBPF_CLANG) has no BPF target
else ifeq ($(EBPF_BPFTOOL),)
EBPF_WHY := bpftool is not installed (Debian: apt-get install bpftool)
else ifeq ($(wildcard /usr/include/bpf/libbpf.h),)
EBPF_WHY := libbpf headers are missing (Debian: apt-get install libbpf-dev)
else ifeq ($(shell printf 'int main(void){return 0;}' | $(CC) -x c - -o /dev/null -lbpf 2>/dev/null && echo ok),)
EBPF_WHY := libbpf.so cannot be linked (Debian: apt-get install libbpf-dev)
endif

ifeq ($(EBPF_WHY),)
EBPF_OK := yes
EBPF_SRC := source_ebpf.c min_btf.c
EBPF_DEPS := $(EBPF_BUILD)/procrec.skel.h $(EBPF_BUILD)/procrec_min_btf.h
EBPF_CFLAGS := -I$(EBPF_BUILD)
EBPF_LDLIBS := -lbpf
ifeq ($(wildcard /sys/kernel/btf/vmlinux),)
$(info eBPF source: built from the committed ebpf/vmlinux.h; this kernel has no BTF (/sys/kernel/btf/vmlinux), so at run time the proc connector source will be used)
endif
else
EBPF_OK := no
EBPF_SRC := source_ebpf_unavailable.c
EBPF_DEPS :=
EBPF_CFLAGS := -DPR_EBPF_UNAVAILABLE_WHY='"libprocrec.so was built without the eBPF source: $(EBPF_WHY)"'
EBPF_LDLIBS :=
$(warning eBPF source NOT built: $(EBPF_WHY); libprocrec.so will have the proc connector source only)
endif

EBPF_BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(EBPF_ARCH) -Wall -Wextra -Wno-unused-parameter -Werror -Iebpf

# The BPF object: compiled with BTF (-g), DWARF stripped (the skeleton embeds
# the object; .BTF and .BTF.ext are kept).
$(EBPF_BUILD)/procrec.bpf.o: ebpf/procrec.bpf.c ebpf/procrec_bpf.h ebpf/vmlinux.h
	@mkdir -p $(EBPF_BUILD)
	$(EBPF_CLANG) $(EBPF_BPF_CFLAGS) -c ebpf/procrec.bpf.c -o $@.full
	$(if $(EBPF_STRIP),$(EBPF_STRIP) -g $@.full -o $@ && rm -f $@.full,mv $@.full $@)

# The same programs with the unrolled loops alone (PR_UNROLLED_LOOPS=1), as a
# kernel without bpf_loop (before 5.17) loads them: ebpf-test loads this
# object too (test_bpf_load), so that the verifier checks that branch here.
$(EBPF_BUILD)/procrec_unrolled.bpf.o: ebpf/procrec.bpf.c ebpf/procrec_bpf.h ebpf/vmlinux.h
	@mkdir -p $(EBPF_BUILD)
	$(EBPF_CLANG) $(EBPF_BPF_CFLAGS) -DPR_UNROLLED_LOOPS=1 -c ebpf/procrec.bpf.c -o $@

$(EBPF_BUILD)/procrec.skel.h: $(EBPF_BUILD)/procrec.bpf.o
	$(EBPF_BPFTOOL) gen skeleton $< name procrec_bpf > $@.tmp && mv $@.tmp $@

# The minimal BTF of this machine's kernel for the programs' CO-RE
# relocations, and what identifies that kernel (ebpf/min_btf_header.sh): at
# run time, on the same kernel, libbpf relocates against it instead of
# searching the whole kernel BTF (source_ebpf.c). Empty without BTF here.
$(EBPF_BUILD)/procrec_min_btf.h: $(EBPF_BUILD)/procrec.bpf.o ebpf/min_btf_header.sh
	sh ebpf/min_btf_header.sh $(EBPF_BPFTOOL) $< $@

.PHONY: ebpf-vmlinux ebpf-test
ebpf-vmlinux:
	@test -r /sys/kernel/btf/vmlinux || { echo "ebpf-vmlinux: this kernel has no BTF (/sys/kernel/btf/vmlinux)" >&2; exit 2; }
	$(EBPF_BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > ebpf/vmlinux.h.tmp && mv ebpf/vmlinux.h.tmp ebpf/vmlinux.h

$(BUILD)/test_ebpf: ebpf/test_ebpf.c ../include/procrec_abi.h $(BUILD)/libprocrec.so
	$(CC) -std=gnu11 -D_GNU_SOURCE -g -O1 -Wall -Wextra -Werror -pthread -o $@ ebpf/test_ebpf.c -L$(BUILD) -lprocrec -Wl,-rpath,'$$ORIGIN'

$(BUILD)/test_min_btf: ebpf/test_min_btf.c min_btf.c min_btf.h $(EBPF_BUILD)/procrec.skel.h $(EBPF_BUILD)/procrec_min_btf.h
	$(CC) -std=gnu11 -D_GNU_SOURCE -g -O1 -Wall -Wextra -Werror -I$(EBPF_BUILD) -o $@ ebpf/test_min_btf.c min_btf.c -lbpf

$(BUILD)/test_bpf_load: ebpf/test_bpf_load.c
	@mkdir -p $(BUILD)
	$(CC) -std=gnu11 -D_GNU_SOURCE -g -O1 -Wall -Wextra -Werror -o $@ ebpf/test_bpf_load.c -lbpf

$(BUILD)/storm: ebpf/storm.c
	@mkdir -p $(BUILD)
	$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -pthread -o $@ ebpf/storm.c

# The capture tests (root), then the same binary without the privilege to
# load BPF (root's bounding set minus CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN):
# PR_SOURCE_EBPF must fail with PR_E_PERM, AUTO fall back to netlink.
EBPF_NOBPF := setpriv --bounding-set=-bpf,-perfmon,-sys_admin --inh-caps=-bpf,-perfmon,-sys_admin
ebpf-test:
ifeq ($(EBPF_OK),yes)
	$(MAKE) --no-print-directory $(BUILD)/test_ebpf $(BUILD)/storm $(BUILD)/test_bpf_load $(BUILD)/test_min_btf $(EBPF_BUILD)/procrec_unrolled.bpf.o
	./$(BUILD)/test_bpf_load $(EBPF_BUILD)/procrec_unrolled.bpf.o
	./$(BUILD)/test_min_btf
	./$(BUILD)/test_ebpf ./$(BUILD)/storm
	./$(BUILD)/test_ebpf ./$(BUILD)/storm loss
	./$(BUILD)/test_ebpf - snapshot
	@if [ "$$(id -u)" = 0 ] && command -v setpriv >/dev/null; then \
	  echo "$(EBPF_NOBPF) ./$(BUILD)/test_ebpf - unprivileged"; \
	  $(EBPF_NOBPF) ./$(BUILD)/test_ebpf - unprivileged; \
	else echo "ebpf-test: unprivileged case skipped: needs root and setpriv (util-linux)"; fi
else
	@echo "ebpf-test: skipped: the eBPF source is not built ($(EBPF_WHY))"
endif
