################################################################################
#
# nuwa
#
################################################################################

# The runtime is built from this checkout, beside the external tree.
NUWA_VERSION = local
NUWA_SITE = $(BR2_EXTERNAL_NUWA_PATH)/../runtime
NUWA_SITE_METHOD = local
NUWA_DEPENDENCIES = openssl sqlite libxml2 icu host-pkgconf
NUWA_OVERLAY = $(BR2_EXTERNAL_NUWA_PATH)/../rootfs-overlay

# Buildroot's compiler wrapper already knows the sysroot, so no SYSROOT=;
# BUILD is given because the runtime would otherwise name its output
# directory after the (long) cross prefix.
NUWA_MAKE_OPTS = \
	CROSS_COMPILE="$(TARGET_CROSS)" \
	CC="$(TARGET_CC)" \
	PKG_CONFIG="$(PKG_CONFIG_HOST_BINARY)" \
	BUILD=$(@D)/build/target

define NUWA_BUILD_CMDS
	$(TARGET_MAKE_ENV) $(MAKE) -C $(@D) $(NUWA_MAKE_OPTS)
endef

define NUWA_INSTALL_TARGET_CMDS
	$(TARGET_MAKE_ENV) $(MAKE) -C $(@D) $(NUWA_MAKE_OPTS) \
		DESTDIR=$(TARGET_DIR) install
	mkdir -p $(TARGET_DIR)/etc/nuwa
	cp -a $(NUWA_OVERLAY)/etc/nuwa/. $(TARGET_DIR)/etc/nuwa/
	$(INSTALL) -D -m 0755 $(NUWA_OVERLAY)/etc/init.d/S50nuwad \
		$(TARGET_DIR)/etc/init.d/S50nuwad
endef

$(eval $(generic-package))
