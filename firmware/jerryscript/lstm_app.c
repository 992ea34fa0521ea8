/*
 * lstm-mcu on a JerryScript board: load the bundle written by
 *   lstm-mcu bundle --engine jerryscript --model <model> --out app.jerryscript.js
 * and feed it readings from C. The host API is in HOST_API.md.
 *
 * Against JerryScript 3.0 (es.next profile: typed arrays). Build with your
 * board's JerryScript library; for a quick check on Linux:
 *   cc -DLSTM_APP_MAIN -I<jerryscript>/include lstm_app.c \
 *      -L<jerryscript>/lib -ljerry-core -ljerry-port -lm -o lstm_app
 *   ./lstm_app app.jerryscript.js < readings.txt     (one sample per line)
 *
 * With the native step (a bundle built with --native host runs its model's
 * step in C; HOST_API.md, "The app with the native step"): define LSTM_APP_NATIVE and
 * compile lstm_native.c and the kernel native/lstm-step.c in, with
 * optimisation and -fwrapv (the kernel refuses to compile without them):
 *   cc -std=c11 -O2 -fwrapv -fno-strict-aliasing -DLSTM_APP_MAIN -DLSTM_APP_NATIVE \
 *      -I<repository>/native -I<jerryscript>/include lstm_app.c lstm_native.c \
 *      <repository>/native/lstm-step.c -L<jerryscript>/lib -ljerry-core -ljerry-port -lm -o lstm_app
 * scripts/build-jerry-host.sh --app builds both for this computer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jerryscript.h"
#ifdef LSTM_APP_NATIVE
#include "lstm_native.h"
#endif

static jerry_value_t app_feed = 0;  /* lstmApp.feed */
static jerry_value_t app_reset = 0; /* lstmApp.reset */
static jerry_value_t app_verify = 0; /* lstmApp.verify */

/*
 * Evaluate the bundle and keep lstmApp's functions. Returns 0 on success, -3
 * when lstmNativeStep could not be defined. With LSTM_APP_NATIVE the global
 * lstmNativeStep is defined first, so the model finds it when it loads.
 */
int lstm_app_init (const char *bundle, size_t length)
{
  jerry_init (JERRY_INIT_EMPTY);
#ifdef LSTM_APP_NATIVE
  if (!lstm_native_register ())
    return -3;
#endif
  jerry_value_t result = jerry_eval ((const jerry_char_t *) bundle, length, JERRY_PARSE_NO_OPTS);
  if (jerry_value_is_exception (result))
  {
    jerry_value_free (result);
    return -1;
  }
  jerry_value_free (result);
  jerry_value_t global = jerry_current_realm ();
  jerry_value_t app = jerry_object_get_sz (global, "lstmApp");
  jerry_value_free (global);
  app_feed = jerry_object_get_sz (app, "feed");
  app_reset = jerry_object_get_sz (app, "reset");
  app_verify = jerry_object_get_sz (app, "verify");
  jerry_value_free (app);
  return jerry_value_is_function (app_feed) && jerry_value_is_function (app_reset) ? 0 : -2;
}

/*
 * One sample: `readings[0..count)` in the model's feature order (NaN for a
 * reading the sensor could not give). Writes up to `max_outputs` real outputs
 * and the score; returns 1 when the model stepped, 0 when the sample was bad
 * (skipped and counted), -1 on a JavaScript error. *alert is 1 while the
 * score is above the alert threshold.
 */
int lstm_app_feed (const double *readings, unsigned count, double *outputs, unsigned max_outputs, double *score, int *alert)
{
  jerry_value_t x = jerry_array (count);
  for (unsigned i = 0; i < count; i++)
  {
    jerry_value_t v = jerry_number (readings[i]);
    jerry_value_free (jerry_object_set_index (x, i, v));
    jerry_value_free (v);
  }
  jerry_value_t undefined = jerry_undefined ();
  jerry_value_t result = jerry_call (app_feed, undefined, &x, 1);
  jerry_value_free (undefined);
  jerry_value_free (x);
  if (jerry_value_is_exception (result))
  {
    jerry_value_free (result);
    return -1;
  }
  jerry_value_t stepped = jerry_object_get_sz (result, "stepped");
  jerry_value_t outs = jerry_object_get_sz (result, "outputs");
  jerry_value_t s = jerry_object_get_sz (result, "score");
  jerry_value_t a = jerry_object_get_sz (result, "alert");
  for (unsigned k = 0; k < max_outputs; k++)
  {
    jerry_value_t y = jerry_object_get_index (outs, k);
    outputs[k] = jerry_value_as_number (y);
    jerry_value_free (y);
  }
  *score = jerry_value_as_number (s);
  *alert = jerry_value_is_true (a);
  int ok = jerry_value_is_true (stepped) ? 1 : 0;
  jerry_value_free (stepped);
  jerry_value_free (outs);
  jerry_value_free (s);
  jerry_value_free (a);
  jerry_value_free (result);
  return ok;
}

/* Start a new sequence (clears the model state). */
void lstm_app_reset (void)
{
  jerry_value_t undefined = jerry_undefined ();
  jerry_value_free (jerry_call (app_reset, undefined, NULL, 0));
  jerry_value_free (undefined);
}

/* A JavaScript string into buf, cut to size - 1 bytes and ended with NUL; frees v. */
static void lstm_app_string (jerry_value_t v, char *buf, size_t size)
{
  jerry_value_t s = jerry_value_to_string (v);
  jerry_size_t n = jerry_value_is_exception (s) ? 0 : jerry_string_to_buffer (s, JERRY_ENCODING_UTF8, (jerry_char_t *) buf, (jerry_size_t) (size - 1));
  buf[n] = '\0';
  jerry_value_free (s);
  jerry_value_free (v);
}

/* "<CRC-32 of the model data> <self-test output>" into buf (what lstm-mcu bundle printed). */
void lstm_app_verify (char *buf, size_t size)
{
  jerry_value_t undefined = jerry_undefined ();
  lstm_app_string (jerry_call (app_verify, undefined, NULL, 0), buf, size);
  jerry_value_free (undefined);
}

/* Which step the model runs (lstmModel.info.native): "host" (lstmNativeStep, in C) or "js: " and why. */
void lstm_app_step_path (char *buf, size_t size)
{
  static const char source[] = "lstmApp.model.info.native";
  lstm_app_string (jerry_eval ((const jerry_char_t *) source, sizeof source - 1, JERRY_PARSE_NO_OPTS), buf, size);
}

void lstm_app_free (void)
{
  jerry_value_free (app_feed);
  jerry_value_free (app_reset);
  jerry_value_free (app_verify);
  jerry_cleanup ();
}

#ifdef LSTM_APP_MAIN
/*
 * ./lstm_app app.jerryscript.js < readings: prints verify(), the model's step
 * path, then one line per sample (numbers with 17 significant digits: the
 * doubles themselves).
 */
int main (int argc, char **argv)
{
  if (argc != 2)
  {
    fprintf (stderr, "usage: %s app.jerryscript.js < readings.txt\n", argv[0]);
    return 2;
  }
  FILE *f = fopen (argv[1], "rb");
  if (!f)
  {
    perror (argv[1]);
    return 1;
  }
  fseek (f, 0, SEEK_END);
  long length = ftell (f);
  fseek (f, 0, SEEK_SET);
  char *bundle = malloc ((size_t) length);
  if (!bundle || fread (bundle, 1, (size_t) length, f) != (size_t) length)
  {
    fprintf (stderr, "%s: cannot read\n", argv[1]);
    return 1;
  }
  fclose (f);
  int status = lstm_app_init (bundle, (size_t) length);
  if (status != 0)
  {
    fprintf (stderr, status == -3 ? "%s: lstmNativeStep could not be defined\n" : "%s: the bundle did not load\n", argv[1]);
    return 1;
  }
  char text[256];
  lstm_app_verify (text, sizeof text);
  printf ("verify %s\n", text);
  lstm_app_step_path (text, sizeof text);
  printf ("native %s\n", text);
  char line[1024];
  while (fgets (line, sizeof line, stdin))
  {
    double x[16], y[4], score;
    unsigned n = 0;
    int alert;
    for (char *p = strtok (line, " ,\t\n"); p && n < 16; p = strtok (NULL, " ,\t\n")) x[n++] = strtod (p, NULL);
    int stepped = lstm_app_feed (x, n, y, 1, &score, &alert);
    printf ("stepped %d output %.17g score %.17g alert %d\n", stepped, y[0], score, alert);
  }
  lstm_app_free ();
  free (bundle);
  return 0;
}
#endif
