// Open MPI's handles (MPI_COMM_WORLD, MPI_DOUBLE, MPI_SUM, MPI_MIN, MPI_IN_PLACE) are macros over global
// symbols, which Swift cannot import: these functions return them. Only the Cluster module
// imports CMPI.
#ifndef LOUPE_CMPI_SHIM_H
#define LOUPE_CMPI_SHIM_H
#include <mpi.h>

static inline MPI_Comm loupe_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype loupe_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype loupe_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Op loupe_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op loupe_mpi_min(void) { return MPI_MIN; }
static inline void *loupe_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline int loupe_mpi_success(void) { return MPI_SUCCESS; }
static inline int loupe_mpi_thread_funneled(void) { return MPI_THREAD_FUNNELED; }

#endif
