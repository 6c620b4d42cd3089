from callerid import create_app

app = create_app()
