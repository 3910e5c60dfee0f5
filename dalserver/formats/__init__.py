"""Result serialisations: writers that consume row batches and yield bytes."""
