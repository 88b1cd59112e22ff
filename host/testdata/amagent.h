/* amagent.h: the guest ABI v1 host functions (import module "amagent"). */
#ifndef AMAGENT_H
#define AMAGENT_H
#define AMAGENT_IMPORT(n) __attribute__((import_module("amagent"), import_name(n)))
AMAGENT_IMPORT("fact") int amagent_fact(const char *key, int key_len);
AMAGENT_IMPORT("exec") int amagent_exec(const char *req, int req_len);
AMAGENT_IMPORT("response") int amagent_response(char *buf, int cap);
AMAGENT_IMPORT("log") void amagent_log(int level, const char *msg, int msg_len);
#endif
