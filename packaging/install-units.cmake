# SPDX-License-Identifier: Apache-2.0
# Run by `cmake --install`: writes the units with the prefix given at install time.
# In: TLSRPT_PACKAGING_DIR, TLSRPT_SYSTEMD_UNIT_DIR, TLSRPT_INSTALL_BINDIR,
# TLSRPT_INSTALL_DATADIR (set by packaging/CMakeLists.txt), CMAKE_INSTALL_PREFIX, DESTDIR.
file(STRINGS "${TLSRPT_PACKAGING_DIR}/hardening.conf" hardening REGEX "^[A-Za-z]")
list(JOIN hardening "\n" TLSRPT_UNIT_HARDENING)
foreach(var BINDIR DATADIR)
  if(IS_ABSOLUTE "${TLSRPT_INSTALL_${var}}")
    set(full_${var} "${TLSRPT_INSTALL_${var}}")
  else()
    set(full_${var} "${CMAKE_INSTALL_PREFIX}/${TLSRPT_INSTALL_${var}}")
  endif()
endforeach()
set(TLSRPT_BINDIR "${full_BINDIR}")
set(TLSRPT_DOCDIR "${full_DATADIR}/doc/tlsrpt-collector")
if(IS_ABSOLUTE "${TLSRPT_SYSTEMD_UNIT_DIR}")
  set(unit_dir "$ENV{DESTDIR}${TLSRPT_SYSTEMD_UNIT_DIR}")
else()
  set(unit_dir "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}/${TLSRPT_SYSTEMD_UNIT_DIR}")
endif()
# Every unit of packaging/: templates (*.service.in) get the paths and the sandbox, timers are
# copied as they are.
file(GLOB templates "${TLSRPT_PACKAGING_DIR}/*.service.in")
file(GLOB timers "${TLSRPT_PACKAGING_DIR}/*.timer")
foreach(template IN LISTS templates)
  get_filename_component(unit "${template}" NAME_WLE)
  message(STATUS "Installing: ${unit_dir}/${unit}")
  configure_file("${template}" "${unit_dir}/${unit}" @ONLY)
endforeach()
foreach(timer IN LISTS timers)
  get_filename_component(unit "${timer}" NAME)
  message(STATUS "Installing: ${unit_dir}/${unit}")
  configure_file("${timer}" "${unit_dir}/${unit}" COPYONLY)
endforeach()
