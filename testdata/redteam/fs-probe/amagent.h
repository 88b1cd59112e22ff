/* Host functions of guest ABI v1 (import module "amagent"), declared from
 * shared/ABI.md section 4 alone. All calls are optional imports. */
#ifndef AMAGENT_H
#define AMAGENT_H
#include <stdint.h>

#define AMAGENT_IMPORT(name) \
	__attribute__((import_module("amagent"), import_name(#name)))

AMAGENT_IMPORT(fact) int32_t amagent_fact(const char *key, int32_t key_len);
AMAGENT_IMPORT(exec) int32_t amagent_exec(const char *req, int32_t req_len);
AMAGENT_IMPORT(response) int32_t amagent_response(char *buf, int32_t cap);
AMAGENT_IMPORT(log) void amagent_log(int32_t level, const char *msg, int32_t len);

#endif
