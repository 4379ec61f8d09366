#pragma once
// Refusing, before any work, a job whose results cannot fit in this machine's memory, with how
// much they would need (a bad_alloc after minutes of work says neither).
#include <cstdint>
#include <string>

namespace artabpfn::jobs {

// "1.5 GB" (powers of 1000, three significant digits).
std::string readable_bytes(double bytes);

// MemAvailable from /proc/meminfo, else the physical memory; 0 when neither is known.
double available_memory_bytes();

// Throws InputError when `bytes`, needed for `what`, exceeds the available memory.
void check_memory(double bytes, const std::string& what, const std::string& advice);

}  // namespace artabpfn::jobs
