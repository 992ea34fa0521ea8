/*
 * A JerryScript host that runs one script, with print() and the native step
 * lstmNativeStep (lstm_native.c), or without it (--js-only): how the tests run
 * the es5 module through both of its steps in the same host
 * (test/native/jerry-host.test.ts), and a way to try a module on a computer.
 * Built by scripts/build-jerry-host.sh.
 *
 *   run_script [--js-only] program.js
 *
 * Exits 0 when the script ran, 1 when it threw (the exception is printed) or
 * could not be read, 2 on a wrong command line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jerryscript.h"
#include "jerryscript-ext/handlers.h"
#include "jerryscript-ext/print.h"
#include "jerryscript-ext/properties.h"
#include "lstm_native.h"

/* The whole file, NUL-terminated, in a malloc'd buffer (NULL when it cannot be read). */
static char *read_whole (const char *name, size_t *length)
{
  FILE *f = fopen (name, "rb");
  if (!f) return NULL;
  char *text = NULL;
  if (fseek (f, 0, SEEK_END) == 0)
  {
    long n = ftell (f);
    text = n >= 0 ? malloc ((size_t) n + 1) : NULL;
    if (text && (fseek (f, 0, SEEK_SET) != 0 || fread (text, 1, (size_t) n, f) != (size_t) n))
    {
      free (text);
      text = NULL;
    }
    if (text) text[*length = (size_t) n] = '\0';
  }
  fclose (f);
  return text;
}

/* Parses and runs the script; returns 0, or 1 after printing what it threw. */
static int run (const char *text, size_t length)
{
  jerry_value_t script = jerry_parse ((const jerry_char_t *) text, length, NULL);
  jerry_value_t result = jerry_value_is_exception (script) ? jerry_value_copy (script) : jerry_run (script);
  int failed = jerry_value_is_exception (result);
  if (failed) jerryx_print_unhandled_exception (jerry_value_copy (result));
  jerry_value_free (result);
  jerry_value_free (script);
  return failed;
}

int main (int argc, char **argv)
{
  int js_only = argc == 3 && strcmp (argv[1], "--js-only") == 0;
  if (argc != 2 + js_only)
  {
    fprintf (stderr, "usage: %s [--js-only] program.js\n", argv[0]);
    return 2;
  }
  size_t length = 0;
  char *text = read_whole (argv[argc - 1], &length);
  if (!text)
  {
    fprintf (stderr, "%s: cannot read it\n", argv[argc - 1]);
    return 1;
  }
  jerry_init (JERRY_INIT_EMPTY);
  int status = jerryx_register_global ("print", jerryx_handler_print) ? 0 : 1;
  if (status == 0 && !js_only && !lstm_native_register ())
  {
    fprintf (stderr, "lstmNativeStep could not be defined\n");
    status = 1;
  }
  if (status == 0) status = run (text, length);
  jerry_cleanup ();
  free (text);
  return status;
}
