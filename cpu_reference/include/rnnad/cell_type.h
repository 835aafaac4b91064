// The recurrent cell types rnnad implements, as PyTorch names them.
#pragma once

namespace rnnad {

/// PyTorch recurrent cell: nn.RNN(nonlinearity='tanh'|'relu'), nn.LSTM, nn.GRU.
/// Gate row blocks: LSTM i, f, g, o (G = 4H); GRU r, z, n (G = 3H); RNN one block (G = H).
enum class CellType { RnnTanh, RnnRelu, Lstm, Gru };

}  // namespace rnnad
