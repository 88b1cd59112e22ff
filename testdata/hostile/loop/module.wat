;; loop: spins forever without calling the host. The manifest's timeout
;; ("200ms") must stop it: error "timeout".
(module
  (memory (export "memory") 1)
  (func (export "_start")
    (loop $forever (br $forever))))
