/*
 * TEST-ONLY stub of Windows' bcryptprimitives.dll, for running GUARDiA's Windows build under
 * Debian's Wine 8, which lacks this DLL. Rust's standard library imports ProcessPrng from it
 * (Windows 10 and later always have it). The stub answers from RtlGenRandom, which Wine has.
 * scripts/tests/packages.sh puts it into the throw-away Wine prefix's system32; it is never
 * part of the MSI.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length); /* RtlGenRandom, advapi32 */

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) {
            return FALSE;
        }
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
