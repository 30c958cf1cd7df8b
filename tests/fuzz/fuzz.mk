# Fuzz targets (tests/fuzz/fuzz_*.c).  "make check" builds each with the
# normal gcc flags and replay_main.c and runs it over its seed corpus
# tests/fuzz/corpus/<target>/ (the program finds the corpus by its own
# name under FUZZ_CORPUS_ROOT; pass files or directories to replay others).
# "make fuzz" runs the real libFuzzer builds (clang, ASan, UBSan) through
# tests/fuzz/run: FUZZ_ARGS="-t 600 fuzz_csv" narrows or lengthens a run.
FUZZ_TARGETS = \
	tests/fuzz/fuzz_curp \
	tests/fuzz/fuzz_rfc \
	tests/fuzz/fuzz_conf \
	tests/fuzz/fuzz_form \
	tests/fuzz/fuzz_session_open \
	tests/fuzz/fuzz_return_path \
	tests/fuzz/fuzz_header \
	tests/fuzz/fuzz_email \
	tests/fuzz/fuzz_template \
	tests/fuzz/fuzz_csv \
	tests/fuzz/fuzz_pwpolicy \
	tests/fuzz/fuzz_efirma \
	tests/fuzz/fuzz_upload \
	tests/fuzz/fuzz_tz
check_PROGRAMS += $(FUZZ_TARGETS)
TESTS += $(FUZZ_TARGETS)

FUZZ_CORPUS_ROOT = $(abs_top_srcdir)/tests/fuzz/corpus
FUZZ_REPLAY_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/fuzz \
	-DICSOE_FUZZ_CORPUS='"$(FUZZ_CORPUS_ROOT)"'
FUZZ_REPLAY_LIBS = lib/libicsoe.la $(LDAP_LIBS) $(CURL_LIBS) $(CRYPTO_LIBS)

tests_fuzz_fuzz_curp_SOURCES = tests/fuzz/fuzz_curp.c tests/fuzz/replay_main.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_curp_CPPFLAGS = $(FUZZ_REPLAY_CPPFLAGS)
tests_fuzz_fuzz_curp_LDADD = $(FUZZ_REPLAY_LIBS)

tests_fuzz_fuzz_rfc_SOURCES = tests/fuzz/fuzz_rfc.c tests/fuzz/replay_main.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_rfc_CPPFLAGS = $(FUZZ_REPLAY_CPPFLAGS)
tests_fuzz_fuzz_rfc_LDADD = $(FUZZ_REPLAY_LIBS)

tests_fuzz_fuzz_conf_SOURCES = tests/fuzz/fuzz_conf.c tests/fuzz/replay_main.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_conf_CPPFLAGS = $(FUZZ_REPLAY_CPPFLAGS)
tests_fuzz_fuzz_conf_LDADD = $(FUZZ_REPLAY_LIBS)

tests_fuzz_fuzz_form_SOURCES = tests/fuzz/fuzz_form.c tests/fuzz/replay_main.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_form_CPPFLAGS = $(FUZZ_REPLAY_CPPFLAGS)
tests_fuzz_fuzz_form_LDADD = $(FUZZ_REPLAY_LIBS)

tests_fuzz_fuzz_session_open_SOURCES = tests/fuzz/fuzz_session_open.c tests/fuzz/replay_main.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_session_open_CPPFLAGS = $(FUZZ_REPLAY_CPPFLAGS) $(CRYPTO_CFLAGS)
tests_fuzz_fuzz_session_open_LDADD = $(FUZZ_REPLAY_LIBS)

tests_fuzz_fuzz_return_path_SOURCES = tests/fuzz/fuzz_return_path.c tests/fuzz/replay_main.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_return_path_CPPFLAGS = $(FUZZ_REPLAY_CPPFLAGS)
tests_fuzz_fuzz_return_path_LDADD = $(FUZZ_REPLAY_LIBS)

tests_fuzz_fuzz_header_SOURCES = tests/fuzz/fuzz_header.c tests/fuzz/replay_main.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_header_CPPFLAGS = $(FUZZ_REPLAY_CPPFLAGS)
tests_fuzz_fuzz_header_LDADD = $(FUZZ_REPLAY_LIBS)

tests_fuzz_fuzz_email_SOURCES = tests/fuzz/fuzz_email.c tests/fuzz/replay_main.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_email_CPPFLAGS = $(FUZZ_REPLAY_CPPFLAGS)
tests_fuzz_fuzz_email_LDADD = $(FUZZ_REPLAY_LIBS)

tests_fuzz_fuzz_template_SOURCES = tests/fuzz/fuzz_template.c tests/fuzz/replay_main.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_template_CPPFLAGS = $(FUZZ_REPLAY_CPPFLAGS)
tests_fuzz_fuzz_template_LDADD = $(FUZZ_REPLAY_LIBS)

tests_fuzz_fuzz_csv_SOURCES = tests/fuzz/fuzz_csv.c tests/fuzz/replay_main.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_csv_CPPFLAGS = $(FUZZ_REPLAY_CPPFLAGS)
tests_fuzz_fuzz_csv_LDADD = $(FUZZ_REPLAY_LIBS)

tests_fuzz_fuzz_pwpolicy_SOURCES = tests/fuzz/fuzz_pwpolicy.c tests/fuzz/replay_main.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_pwpolicy_CPPFLAGS = $(FUZZ_REPLAY_CPPFLAGS)
tests_fuzz_fuzz_pwpolicy_LDADD = $(FUZZ_REPLAY_LIBS)

tests_fuzz_fuzz_efirma_SOURCES = tests/fuzz/fuzz_efirma.c tests/fuzz/replay_main.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_efirma_CPPFLAGS = $(FUZZ_REPLAY_CPPFLAGS)
tests_fuzz_fuzz_efirma_LDADD = $(FUZZ_REPLAY_LIBS)

tests_fuzz_fuzz_upload_SOURCES = tests/fuzz/fuzz_upload.c tests/fuzz/replay_main.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_upload_CPPFLAGS = $(FUZZ_REPLAY_CPPFLAGS)
tests_fuzz_fuzz_upload_LDADD = $(FUZZ_REPLAY_LIBS)

tests_fuzz_fuzz_tz_SOURCES = tests/fuzz/fuzz_tz.c tests/fuzz/replay_main.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_tz_CPPFLAGS = $(FUZZ_REPLAY_CPPFLAGS)
tests_fuzz_fuzz_tz_LDADD = $(FUZZ_REPLAY_LIBS)

# The libFuzzer runs: clang builds in $(abs_top_builddir)/_build-fuzz.
FUZZ_ARGS =
.PHONY: fuzz
fuzz:
	$(SHELL) $(abs_top_srcdir)/tests/fuzz/run -o $(abs_top_builddir)/_build-fuzz $(FUZZ_ARGS)
