// An internal subtransaction (a savepoint without a name), as PL/pgSQL's EXCEPTION blocks use:
// committing keeps its work in the enclosing transaction; rolling back undoes it and clears
// the error state, so the caller can log the failure and carry on.
#pragma once

#include "pg/postgres.hpp"

namespace pgm::pg {

class Subtransaction {
  public:
    Subtransaction();
    ~Subtransaction();  // rolls back if neither commit() nor rollback() ran
    Subtransaction(const Subtransaction &) = delete;
    Subtransaction &operator=(const Subtransaction &) = delete;

    void commit();
    void rollback();

  private:
    MemoryContext context_;
    ResourceOwner owner_;
    bool open_ = false;
};

}  // namespace pgm::pg
