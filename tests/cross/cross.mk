# cross.mk - cross builds checked under qemu-user; included at the end of the Makefile.
# Copyright (c) 2026 edgemon authors. SPDX-License-Identifier: MIT
#
#   make cross-deps ARCH=arm64|mipsel   install the Debian cross toolchain (root) or
#                                       print the apt-get commands
#   make cross-test ARCH=arm64|mipsel   build into build-ARCH/ with the cross compiler,
#                                       run the unit tests and one `edgemon poll`
#                                       against the simulator under qemu-ARCH-static
#
# ARCH is read only by these two targets (OpenWrt's MAKE_FLAGS also set ARCH; the
# normal build never looks at it).

.PHONY: cross-deps cross-test

cross-deps:
	@bash tests/cross/deps.sh $(ARCH)

cross-test:
	@bash tests/cross/test.sh $(ARCH)

# Out-of-tree programs for B != build: $(B)/edgemon and $(B)/edgemon-sim, so that a
# cross or minimal build never overwrites the host binaries at the top of the tree.
# Same link lines as the Makefile's own rules. Defined only while the Makefile has no
# OUT variable; once it places the programs in $(B)/ itself these rules step aside.
ifneq ($(B),build)
ifeq ($(origin OUT),undefined)
$(B)/edgemon: $(MAIN_OBJ) $(B)/libedgemon.a
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(MAIN_OBJ) $(B)/libedgemon.a $(EM_LIBS) $(LDLIBS)

$(B)/edgemon-sim: $(SIM_OBJ) $(B)/libedgemon.a
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(SIM_OBJ) $(B)/libedgemon.a $(EM_LIBS) $(LDLIBS)
endif
endif
