# cmake.mk - stand-in for $(INCLUDE_DIR)/cmake.mk (see ../rules.mk).
# Copyright (c) 2026 edgemon authors. SPDX-License-Identifier: MIT
# The default configure step of the real file runs cmake with CMAKE_OPTIONS; here it
# is only printed (make -n), which checks that the options expand.

STUB_USES_CMAKE := 1
CMAKE_OPTIONS ?=
CMAKE_BINARY_DIR ?= $(PKG_BUILD_DIR)

define Build/Configure/Default
	cd $(CMAKE_BINARY_DIR) && cmake -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_BUILD_TYPE=Release \
		-DCMAKE_C_COMPILER=$(TARGET_CC) -DCMAKE_FIND_ROOT_PATH=$(STAGING_DIR) \
		$(CMAKE_OPTIONS) $(PKG_BUILD_DIR)
endef

define Build/Compile/Default
	$(MAKE) -C $(CMAKE_BINARY_DIR)
endef

define Build/Install/Default
	$(MAKE) -C $(CMAKE_BINARY_DIR) install DESTDIR=$(PKG_INSTALL_DIR)
endef
