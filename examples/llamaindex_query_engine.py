"""A LlamaIndex query engine over a few documents: our embedder indexes them, our LLM answers.

python examples/llamaindex_query_engine.py
"""

from __future__ import annotations

from _endpoint import llamaindex_models
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.base.response.schema import StreamingResponse

DOCUMENTS = [
    Document(
        text="The Eiffel Tower is in Paris. It is 330 metres tall.", metadata={"id": "eiffel"}
    ),
    Document(text="Mount Fuji is the highest mountain in Japan.", metadata={"id": "fuji"}),
    Document(text="The Nile flows north through Egypt.", metadata={"id": "nile"}),
]


def main() -> None:
    with llamaindex_models(temperature=0) as (llm, embedder):
        index = VectorStoreIndex.from_documents(DOCUMENTS, embed_model=embedder)
        engine = index.as_query_engine(llm=llm, similarity_top_k=1)
        response = engine.query("How tall is the Eiffel Tower?")
        print("retrieved:", [node.metadata["id"] for node in response.source_nodes])
        print("answer:", response)

        streaming = index.as_query_engine(llm=llm, similarity_top_k=1, streaming=True)
        print("streamed answer: ", end="")
        streamed = streaming.query("Which river flows through Egypt?")
        assert isinstance(streamed, StreamingResponse)
        streamed.print_response_stream()
        print()


if __name__ == "__main__":
    main()
