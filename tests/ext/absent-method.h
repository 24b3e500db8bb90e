/*
 * A method id no uverbs object has (the core takes ids up to 20): the
 * kernel answers EPROTONOSUPPORT for it as for any absent method.
 * no-ext-shim.so turns the ODP MR query into it; ibvx-test bad-input's
 * absent-method case shows the kernel's answer to it without the shim.
 */
#ifndef ABSENT_METHOD_H
#define ABSENT_METHOD_H

#define ABSENT_METHOD_ID 0x3f

#endif
