# Sample apps (app-NAME.so), built on the app framework (framework/build.mk).
# Included by runtime/Makefile; see the variables documented there.

APPS := clock messages settings music gallery notes
APP_SOS := $(patsubst %,$(BUILD)/app-%.so,$(APPS))

$(BUILD)/obj/nuwa-apps/%.o: $(TOP)/apps/%.c $(FW_HEADERS) | fw-deps-check
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SO_CFLAGS) $(FW_CFLAGS) -c -o $@ $<

# -lm: music's synthesiser.
$(BUILD)/app-%.so: $(BUILD)/obj/nuwa-apps/%.o $(FW_LIB) $(LIBNUWA)
	$(CC) $(LDFLAGS) $(SO_LDFLAGS) -o $@ $< -L$(BUILD) -lnuwafw -lnuwa $(FW_LIBS) -lm

ALL_TARGETS += $(APP_SOS)
INSTALL_LIB += $(APP_SOS)
