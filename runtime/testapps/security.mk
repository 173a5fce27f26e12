# Sandbox and snapshot grants (docs/security.md): the sandbox probe, the
# hostile test app and the native unit test of nuwad's grant bookkeeping.
# Included by runtime/Makefile; uses its BUILD, CC, CFLAGS, SO_* and LIBNUWA.

$(BUILD)/nuwa-sandbox-probe: $(BUILD)/obj/testapps/sandbox_probe.o $(LIBNUWA)
	$(CC) $(LDFLAGS) $(RUNPATH) -o $@ $(filter %.o,$^) -L$(BUILD) -lnuwa -lpthread $(LDLIBS)

ALL_TARGETS += $(BUILD)/nuwa-sandbox-probe
TEST_LIBEXEC += $(BUILD)/nuwa-sandbox-probe

$(BUILD)/nuwa-grants-test: $(BUILD)/obj/testapps/grants_test.o $(BUILD)/obj/nuwad/grants.o
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

ALL_TARGETS += $(BUILD)/nuwa-grants-test

$(BUILD)/app-hostile.so: $(BUILD)/obj/testapps/hostile.o $(LIBNUWA)
	$(CC) $(LDFLAGS) $(SO_LDFLAGS) -o $@ $(filter %.o,$^) -L$(BUILD) -lnuwa

ALL_TARGETS += $(BUILD)/app-hostile.so
TEST_LIB += $(BUILD)/app-hostile.so

# The seccomp program against its allowlist, in user space: the sandbox's
# rule list and compiler objects, not libnuwa.
SECCOMP_CHECK_LIB_OBJ := $(patsubst %,$(BUILD)/obj/lib/sandbox_%.o,bpf policy report)
$(BUILD)/obj/testapps/seccomp_check.o: $(BUILD)/gen/sandbox_syscalls.h $(wildcard $(TOP)/lib/*.h)

$(BUILD)/nuwa-seccomp-check: $(BUILD)/obj/testapps/seccomp_check.o $(SECCOMP_CHECK_LIB_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

ALL_TARGETS += $(BUILD)/nuwa-seccomp-check
TEST_LIBEXEC += $(BUILD)/nuwa-seccomp-check
