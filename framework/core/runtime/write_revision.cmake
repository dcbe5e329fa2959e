# Writes revision.cpp with the current `git describe`, touching it only when the text changes, so
# an unchanged revision costs no rebuild.
execute_process(COMMAND git describe --always --dirty --tags
                WORKING_DIRECTORY ${SOURCE_DIR}
                OUTPUT_VARIABLE OTHRUN_REVISION OUTPUT_STRIP_TRAILING_WHITESPACE
                ERROR_QUIET RESULT_VARIABLE status)
if(NOT status EQUAL 0 OR OTHRUN_REVISION STREQUAL "")
  set(OTHRUN_REVISION "unknown")
endif()
set(OTHRUN_REVISION "${VERSION}+${OTHRUN_REVISION}")
configure_file(${INPUT} ${OUTPUT}.tmp @ONLY)
file(COPY_FILE ${OUTPUT}.tmp ${OUTPUT} ONLY_IF_DIFFERENT)
